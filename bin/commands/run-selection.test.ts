/** What `tsmlab run` would execute, and why nothing, decided from the feature files alone. */
import type { ISourcesCoordinates } from '@cucumber/cucumber/api';
import { describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.ts';
import { checkFeaturePaths, selectScenarios } from './run-selection.ts';
import { parseTagExpression } from './run-tags.ts';

const ACCESS = 'features/sp-api/access.feature';

function sources(paths: string[], tags?: string): ISourcesCoordinates {
  return { defaultDialect: 'en', paths, names: [], tagExpression: tags ?? '', order: 'defined' };
}

async function select(paths: string[], tags?: string) {
  return selectScenarios(sources(paths, tags), tags === undefined ? undefined : parseTagExpression(tags));
}

describe('selectScenarios', () => {
  it('counts what the tags and paths select', async () => {
    expect(await select([ACCESS])).toEqual({ count: 4 });
    expect(await select([ACCESS], '@TP-API-001 or @TP-API-004')).toEqual({ count: 2 });
    expect(await select([`${ACCESS}:15`])).toEqual({ count: 1 });
  });

  it('names the tag on none of the scenarios and the tags there, nearest first, within a line filter', async () => {
    await expect(select([`${ACCESS}:10`], '@TP-API-002')).rejects.toThrow(
      new CliError(
        `--tags "@TP-API-002" does not select the one scenario in ${ACCESS}:10: @TP-API-002 is on none of them\n` +
          '  tags there, nearest first: @TP-API-001, @REQ-PAT-FIG3, @REQ-MSG-ACCESS',
      ),
    );
  });

  it('says when every tag exists but no scenario has them all', async () => {
    await expect(select([ACCESS], '@TP-API-001 and @REQ-MSG-FORMAT')).rejects.toThrow(
      new CliError(
        `--tags "@TP-API-001 and @REQ-MSG-FORMAT" selects none of the 4 scenarios in ${ACCESS}: each of its tags is on some scenario ` +
          '(@TP-API-001 (1 scenario), @REQ-MSG-FORMAT (1 scenario)), but no scenario satisfies the whole expression',
      ),
    );
  });

  it('hints at the comma of old tag syntax', async () => {
    await expect(select([ACCESS], '@TP-API-001,@TP-API-002')).rejects.toThrow(/a comma does not separate tags, write "@TP-API-001 or @TP-API-002"/);
  });

  it('refuses a path without scenarios', async () => {
    await expect(select([`${ACCESS}:9`])).rejects.toThrow(new CliError(`no scenario in ${ACCESS}:9 (a .feature file, or a folder of them)`));
  });
});

describe('checkFeaturePaths', () => {
  it('accepts files with line filters, folders and globs', () => {
    expect(() => checkFeaturePaths([`${ACCESS}:10:15`, 'features/sp-api', 'features/**/*.feature'])).not.toThrow();
  });

  it('refuses a path that is not there, with a hint when it looks like the rest of an unquoted --tags', () => {
    expect(() => checkFeaturePaths(['features/nope.feature'])).toThrow(new CliError('no such feature file or folder: "features/nope.feature"'));
    expect(() => checkFeaturePaths(['and'])).toThrow(new CliError('no such feature file or folder: "and" (quote a --tags expression of several words)'));
  });
});
