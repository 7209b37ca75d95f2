// components/Notices.tsx - errors and confirmations, shown until dismissed (errors are never swallowed).
import { CheckCircle2, CircleAlert, Info, X } from "lucide-react";

export interface Notice {
  id: number;
  kind: "error" | "warn" | "ok" | "info";
  text: string;
  code?: string;
}

export function Notices({ items, onDismiss }: { items: Notice[]; onDismiss: (id: number) => void }) {
  return (
    <div className="notices" role="log" aria-live="assertive" aria-relevant="additions">
      {items.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`} data-testid={`notice-${n.kind}`} data-code={n.code}>
          {n.kind === "ok" ? <CheckCircle2 size={16} aria-hidden="true" /> : n.kind === "info" ? <Info size={16} aria-hidden="true" /> : <CircleAlert size={16} aria-hidden="true" />}
          <span>{n.text}</span>
          <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => onDismiss(n.id)}>
            <X size={14} aria-hidden="true" />
          </button>
        </div>
      ))}
    </div>
  );
}
