// The rooms' printable sheets: the print button (the page itself needs no script to print).

import { byId } from "./dom.js";

byId("sheet-print").addEventListener("click", () => window.print());
