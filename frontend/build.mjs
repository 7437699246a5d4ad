// Builds the front-end assets into frontend/dist/ (served as static files by Django):
// compiles frontend/kinship.scss with sass and copies the GOV.UK / MoJ fonts, images and JavaScript.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "frontend", "dist");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const moj = join(root, "node_modules", "@ministryofjustice", "frontend", "moj");

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "css"), { recursive: true });

const result = sass.compile(join(root, "frontend", "kinship.scss"), {
  style: "compressed",
  loadPaths: [root],
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin"],
});
writeFileSync(join(dist, "css", "kinship.css"), result.css);

cpSync(join(govuk, "assets"), join(dist, "govuk", "assets"), { recursive: true });
cpSync(join(govuk, "govuk-frontend.min.js"), join(dist, "govuk", "govuk-frontend.min.js"));
cpSync(join(moj, "assets"), join(dist, "govuk", "assets"), { recursive: true });
cpSync(join(moj, "moj-frontend.min.js"), join(dist, "moj", "moj-frontend.min.js"));
console.log(`front-end assets built in ${dist}`);
