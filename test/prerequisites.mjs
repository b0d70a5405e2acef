// What `npm test` needs from the operating system, and its own set-up: the Debian packages of the PC/SC, pcapng and
// browser tiers (installed with apt-get when run as root, otherwise named in one line and the run fails), then the
// optional pcsclite module, which `npm ci` drops when the PC/SC headers were not there yet.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function onPath(tool) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...SYSTEM_DIRS].filter(Boolean);
  return dirs.some((d) => {
    try {
      accessSync(path.join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Where vsmartcard-vpcd puts its reader driver (its reader.conf names it; the usual place otherwise). */
function vpcdDriver() {
  try {
    const conf = readFileSync('/etc/reader.conf.d/vpcd', 'utf8');
    const lib = /^\s*LIBPATH\s+(\S+)/m.exec(conf)?.[1];
    if (lib) return lib;
  } catch {
    // not installed: the usual place below
  }
  return '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
}

const chromiumPath = () => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Each tier, the Debian packages it needs, and how to tell that one is there without asking dpkg. */
export const TIERS = [
  {
    tier: 'PC/SC (pcscd + vpcd)',
    packages: [
      { pkg: 'pcscd', present: () => onPath('pcscd') },
      { pkg: 'vsmartcard-vpcd', present: () => existsSync(vpcdDriver()) },
      { pkg: 'libpcsclite-dev', present: () => existsSync('/usr/include/PCSC/winscard.h') },
      { pkg: 'opensc', present: () => onPath('opensc-tool') },
      { pkg: 'iproute2', present: () => onPath('ip') && onPath('ss') },
      { pkg: 'util-linux', present: () => onPath('unshare') },
      // node-gyp builds pcsclite against the headers above.
      { pkg: 'build-essential', present: () => onPath('make') && onPath('g++') },
      { pkg: 'python3', present: () => onPath('python3') },
    ],
  },
  { tier: 'pcapng decoding', packages: [{ pkg: 'tshark', present: () => onPath('tshark') }] },
  { tier: 'viewer in a browser', packages: [{ pkg: 'chromium', present: () => existsSync(chromiumPath()) }] },
];

/** The packages still missing, each with the tiers that need it. */
export function missingPackages(tiers = TIERS) {
  const missing = new Map();
  for (const t of tiers) {
    for (const p of t.packages) {
      if (p.present()) continue;
      missing.set(p.pkg, [...(missing.get(p.pkg) ?? []), t.tier]);
    }
  }
  return missing;
}

function run(cmd, args, log) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  log.push(`$ ${[cmd, ...args].join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.status === 0;
}

/**
 * Installs what is missing when it can (root and apt-get), else says what to run. Returns problems, one line each;
 * an empty list means every tier has what it needs.
 */
export function ensureSystemPackages({
  say = console.log,
  tiers = TIERS,
  root = typeof process.getuid === 'function' && process.getuid() === 0,
  apt = onPath('apt-get'),
} = {}) {
  const missing = missingPackages(tiers);
  if (missing.size === 0) return [];
  const names = [...missing.keys()];
  const why = [...new Set([...missing.values()].flat())].join('; ');
  if (!root || !apt) {
    const how = apt
      ? `run  sudo apt-get install -y --no-install-recommends ${names.join(' ')}  and then npm test again`
      : `install them with the system's package manager (Debian names) and run npm test again`;
    return [`missing ${names.join(', ')} (needed by the tiers: ${why}); ${how}`];
  }
  say(`npm test: installing ${names.join(', ')} with apt-get (needed by the tiers: ${why})`);
  const log = [];
  // Waits for another apt/dpkg run to let go of its lock rather than failing at once.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const ok =
    run('apt-get', [...lock, 'update', '-qq'], log) &&
    run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...names], log);
  const still = [...missingPackages(tiers).keys()];
  if (ok && still.length === 0) return [];
  return [
    `npm test could not install ${still.length ? still.join(', ') : names.join(', ')} with apt-get; its output:\n${log.join('\n').trimEnd()}`,
  ];
}

function lockedVersion(name) {
  try {
    return JSON.parse(readFileSync('package-lock.json', 'utf8')).packages?.[`node_modules/${name}`]?.version;
  } catch {
    return undefined;
  }
}

const loads = (name) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', `import { createRequire } from 'node:module'; createRequire(process.cwd() + '/')('${name}');`], {
    stdio: 'ignore',
  }).status === 0;

/**
 * The optional pcsclite module: `npm ci` run before libpcsclite-dev was there could not build it and left it out;
 * build it now (rebuild when present, install the locked version when dropped).
 */
export function ensurePcsclite({ say = console.log } = {}) {
  if (loads('pcsclite')) return [];
  if (!existsSync('/usr/include/PCSC/winscard.h')) return ['the pcsclite module cannot be built: libpcsclite-dev is missing'];
  const present = existsSync('node_modules/pcsclite/package.json');
  const version = lockedVersion('pcsclite');
  const args = present ? ['rebuild', 'pcsclite'] : ['install', '--no-save', '--no-audit', '--no-fund', `pcsclite@${version ?? 'latest'}`];
  say(`npm test: the pcsclite module was not built (npm ci ran before the PC/SC headers were installed): npm ${args.join(' ')}`);
  const log = [];
  const ok = run('npm', args, log);
  if (ok && loads('pcsclite')) return [];
  return [`npm ${args.join(' ')} did not give a loadable pcsclite module; its output:\n${log.join('\n').trimEnd()}`];
}
