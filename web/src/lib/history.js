// Undo/redo as a stack of whole-graph snapshots: one entry per user action, so a paste of ten
// nodes (one action) undoes in one step. Snapshots are plain values; nothing here touches the DOM.

export class History {
  constructor(initial, { limit = 200 } = {}) {
    this.past = [];
    this.present = initial;
    this.future = [];
    this.limit = limit;
    this.lastKey = null;
  }

  /** Record `state` as the result of one action. Consecutive pushes with the same non-null
   * `coalesce` key (typing in one field) replace the latest entry instead of adding one. */
  push(state, coalesce = null) {
    if (state === this.present) return;
    if (coalesce !== null && coalesce === this.lastKey && this.past.length) {
      this.present = state;
    } else {
      this.past.push(this.present);
      if (this.past.length > this.limit) this.past.shift();
      this.present = state;
    }
    this.future = [];
    this.lastKey = coalesce;
  }

  /** Replace the present without an undo step (e.g. a layout applied on load). */
  reset(state) {
    this.past = [];
    this.future = [];
    this.present = state;
    this.lastKey = null;
  }

  get canUndo() { return this.past.length > 0; }
  get canRedo() { return this.future.length > 0; }

  undo() {
    if (!this.canUndo) return this.present;
    this.future.push(this.present);
    this.present = this.past.pop();
    this.lastKey = null;
    return this.present;
  }

  redo() {
    if (!this.canRedo) return this.present;
    this.past.push(this.present);
    this.present = this.future.pop();
    this.lastKey = null;
    return this.present;
  }
}
