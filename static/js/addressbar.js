// Every page loads this first (templates/base.html): the link's token leaves the address bar.
import { keepTokenOutOfAddressBar, pageKind } from "./linktoken.js";

keepTokenOutOfAddressBar(window, pageKind(document.body, (selector) => document.querySelector(selector)));
