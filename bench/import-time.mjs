// Prints how long importing one module takes in a fresh Node process, in milliseconds:
// the part of a Lambda cold start that the bundle decides.
const start = performance.now();
await import(process.argv[2]);
console.log((performance.now() - start).toFixed(3));
