// Usage: node validate.js SCHEMA.json PAYLOAD.json...
// Prints one line per payload and exits 1 if any does not validate.
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");

const [schemaPath, ...payloads] = process.argv.slice(2);
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
let failed = 0;
for (const path of payloads) {
  const ok = validate(JSON.parse(fs.readFileSync(path, "utf8")));
  console.log(`${ok ? "valid" : "INVALID"} ${path}${ok ? "" : " " + ajv.errorsText(validate.errors)}`);
  if (!ok) failed++;
}
process.exit(failed ? 1 : 0);
