// The technician console (filled in by the console work).
import { h, replaceChildren } from "../shared/dom";

const app = document.getElementById("app");
if (app) replaceChildren(app, h("h1", {}, "valise console"));
