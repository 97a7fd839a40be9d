// The client drop page (filled in by the drop page work).
import { h, replaceChildren } from "../shared/dom";

declare const __DROP_WORKER_URL__: string;
export const workerUrl = __DROP_WORKER_URL__;

const app = document.getElementById("app");
if (app) replaceChildren(app, h("h1", {}, "valise"));
