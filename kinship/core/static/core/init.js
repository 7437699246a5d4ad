// Starts the GOV.UK Frontend components on the page (an ES module, so no inline script is needed).
import { initAll } from "/static/govuk/govuk-frontend.min.js";

initAll();
