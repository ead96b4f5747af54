// Merging duplicates: the moderator folds a question into the approved one it repeats. Votes unite
// on the server (each voter once); the duplicate moves to the "merged" tab, where it can be undone.

import { byId, h, setText } from "./dom.js";
import { t } from "./i18n.js";
import { questionsWithStatus, sortQuestions } from "./state.js";

/** How many candidates the dialog lists at once: the filter narrows a long list. */
const SHOWN = 30;

/**
 * @param {{run: (command: Record<string, any>) => Promise<boolean>,
 *   state: () => import("./state.js").State|null}} deps
 * @returns {(q: import("./state.js").Question) => void} opens the dialog for duplicate `q`
 */
export function setupMerge({ run, state }) {
  const dialog = /** @type {HTMLDialogElement} */ (byId("merge-dialog"));
  const list = byId("merge-list");
  const filter = /** @type {HTMLInputElement} */ (byId("merge-filter"));
  const source = byId("merge-source");
  const empty = byId("merge-empty");
  const confirm = /** @type {HTMLButtonElement} */ (byId("merge-confirm"));
  /** @type {import("./state.js").Question|null} */
  let duplicate = null;

  function fill() {
    const current = state();
    if (!current || !duplicate) return;
    const words = filter.value.trim().toLocaleLowerCase();
    const candidates = sortQuestions(questionsWithStatus(current, "approved"), "popular")
      .filter((q) => q.id !== (duplicate && duplicate.id))
      .filter((q) => !words || q.text.toLocaleLowerCase().includes(words))
      .slice(0, SHOWN);
    list.replaceChildren(...candidates.map((q) => {
      const input = h("input", { type: "radio", name: "merge-into", value: q.id, id: `merge-${q.id}`, dataset: { testid: "merge-choice" } });
      input.addEventListener("change", () => { confirm.disabled = false; });
      return h("li", { class: "merge__choice" }, input,
        h("label", { for: `merge-${q.id}`, text: `${q.text} (${t("question.votes", { count: q.votes || 0 })})` }));
    }));
    empty.hidden = candidates.length > 0;
    confirm.disabled = !list.querySelector("input:checked");
  }

  filter.addEventListener("input", fill);
  dialog.addEventListener("close", () => {
    const chosen = /** @type {HTMLInputElement|null} */ (list.querySelector("input:checked"));
    if (dialog.returnValue === "merge" && chosen && duplicate) {
      run({ type: "MergeQuestions", question_id: duplicate.id, into_id: chosen.value });
    }
    duplicate = null;
  });

  return (q) => {
    if (dialog.open) return;
    duplicate = q;
    setText(source, t("merge.source", { text: q.text }));
    filter.value = "";
    dialog.returnValue = "";
    fill();
    dialog.showModal();
  };
}
