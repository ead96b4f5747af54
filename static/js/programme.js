// Programme page: dates are rendered as ISO by the server and localised here.
import { localizeDates } from "./i18n.js";

localizeDates(document);
