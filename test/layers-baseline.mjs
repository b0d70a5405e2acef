// `npm run lint:layers:baseline`: dependency-cruiser's baseline (stdin) without `unresolvedTo`, which holds import
// specifiers relative to each importing file and would read as paths outside the repository.
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const known = JSON.parse(Buffer.concat(chunks).toString('utf8')).map(({ unresolvedTo: _, ...rest }) => rest);
process.stdout.write(`${JSON.stringify(known, null, 2)}\n`);
