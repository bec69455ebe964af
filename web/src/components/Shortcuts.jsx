import { Dialog } from "./Dialog.jsx";

export const SHORTCUTS = [
  ["Ctrl+Z", "Undo"], ["Ctrl+Shift+Z or Ctrl+Y", "Redo"], ["Ctrl+C", "Copy the selection"],
  ["Ctrl+V", "Paste (with the connections inside the selection)"], ["Ctrl+D", "Duplicate the selection"],
  ["Ctrl+A", "Select all nodes"], ["Delete or Backspace", "Delete the selection"],
  ["Shift+drag", "Box select"], ["Shift+click", "Add to the selection"], ["L", "Auto-layout"],
  ["F", "Fit view"], ["Enter on a library entry", "Add it to the canvas"],
  ["Enter on an output port, then on an input port", "Connect them"], ["?", "This help"],
];

export function Shortcuts({ onClose }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="table">
        <tbody>{SHORTCUTS.map(([k, what]) => <tr key={k}><th scope="row"><kbd>{k}</kbd></th><td>{what}</td></tr>)}</tbody>
      </table>
      <div className="actions"><button type="button" className="primary" onClick={onClose}>Close</button></div>
    </Dialog>
  );
}
