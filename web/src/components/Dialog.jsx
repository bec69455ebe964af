// A modal dialog (the browser's own <dialog>: focus trap, Escape, role "dialog").
import { useEffect, useId, useRef } from "react";

export function Dialog({ title, onClose, children, wide = false }) {
  const ref = useRef(null);
  const id = useId();
  useEffect(() => {
    const el = ref.current;
    if (el && !el.open) el.showModal();
    return () => el?.open && el.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={id} className={wide ? "wide" : ""}
      onCancel={(e) => { e.preventDefault(); onClose?.(); }}>
      <header className="dialog-head">
        <h2 id={id}>{title}</h2>
        {onClose && <button type="button" className="icon" aria-label="Close" onClick={onClose}>×</button>}
      </header>
      {children}
    </dialog>
  );
}
