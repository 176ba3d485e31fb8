// node validate.mjs FILE: checks that FILE is an OpenAPI document (JSON) that matches the
// OpenAPI JSON schema of its version and whose internal $refs all resolve. Prints "valid" and
// exits 0, or prints every error and exits 1. The security server's REST/JSON test runs it.
import { readFile } from "node:fs/promises";
import { Validator } from "@seriousme/openapi-schema-validator";

function fail(lines) {
  for (const line of lines) console.log(line);
  process.exit(1);
}

if (process.argv.length !== 3) fail(["usage: node validate.mjs FILE"]);
const file = process.argv[2];

let document;
try {
  // Parsed here rather than by the library, which would also accept YAML: we serve JSON.
  document = JSON.parse(await readFile(file, "utf8"));
} catch (error) {
  fail([`${file}: ${error.message}`]);
}
if (typeof document !== "object" || document === null || Array.isArray(document)) {
  fail([`${file}: not a JSON object`]);
}

const validator = new Validator({ allErrors: true });
// Schema first, then (inside validate) every internal $ref; a dangling one fails here.
const result = await validator.validate(document);
if (!result.valid) {
  const errors = Array.isArray(result.errors) ? result.errors : [result.errors];
  fail(
    errors.map((error) =>
      typeof error === "string"
        ? error
        : `${error.instancePath || "/"}: ${error.message} ${JSON.stringify(error.params)}`,
    ),
  );
}
if (!validator.version.startsWith("3.")) fail([`${file}: OpenAPI ${validator.version}, not 3.x`]);
try {
  // Resolving every $ref in place also proves the references (recursive ones included) work.
  validator.resolveRefs();
} catch (error) {
  fail([error.message]);
}
console.log("valid");
