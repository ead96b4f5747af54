// Participant page: the name, organisation and anonymity the participant asks with, kept on this
// device, pre-filled once from a personal link's registrant; and where they ask from.

import { byId, setText, storage } from "./dom.js";
import { t } from "./i18n.js";

const PROFILE_KEY = "tribune.profile";
const REGISTRANT_KEY = "tribune.registrant"; // whose personal link pre-filled the profile last

/**
 * @param {{name: HTMLInputElement, organisation: HTMLInputElement, anonymous: HTMLInputElement,
 *   identity: HTMLDetailsElement}} fields
 */
export function setupIdentity(fields) {
  const { name, organisation, anonymous } = fields;

  function updateSummary() {
    const who = name.value.trim();
    setText(byId("identity-summary"), who ? t("identity.summary", { name: who }) : t("identity.legend"));
  }

  function save() {
    storage.set(PROFILE_KEY, { name: name.value.trim(), organisation: organisation.value.trim(), anonymous: anonymous.checked });
    updateSummary();
  }

  const profile = storage.get(PROFILE_KEY) || {};
  name.value = typeof profile.name === "string" ? profile.name : "";
  organisation.value = typeof profile.organisation === "string" ? profile.organisation : "";
  anonymous.checked = Boolean(profile.anonymous);
  // Returning visitors already filled it in: keep the form short.
  if (name.value) fields.identity.open = false;
  updateSummary();
  for (const input of [name, organisation, anonymous]) input.addEventListener("change", save);

  return {
    save,
    /**
     * A personal link's Welcome carries the registrant's name and organisation: they fill the
     * form (once per registrant, so what they change afterwards on this device stays).
     * @param {any} msg
     */
    prefill(msg) {
      const who = msg.registrant;
      const id = msg.participant && msg.participant.id;
      if (!who || typeof who.name !== "string" || !id || storage.get(REGISTRANT_KEY) === id) return;
      name.value = who.name;
      organisation.value = typeof who.organisation === "string" ? who.organisation : "";
      anonymous.checked = false;
      storage.set(REGISTRANT_KEY, id);
      save();
    },
  };
}

/**
 * Where the participant asks from: the room's printed QR code opens the page with `onsite=1`
 * (the moderators alternate between the room and remote participants).
 * @param {{search: string}} loc @returns {"room"|"remote"}
 */
export function askedFrom(loc) {
  return new URLSearchParams(loc.search).get("onsite") === "1" ? "room" : "remote";
}
