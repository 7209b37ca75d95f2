// components/Panel.tsx - a titled section of the dashboard.
import type { ReactNode } from "react";

interface Props {
  title: string;
  icon?: ReactNode;
  actions?: ReactNode;
  className?: string;
  children: ReactNode;
  id?: string;
}

export function Panel({ title, icon, actions, className, children, id }: Props) {
  const hid = id ? `${id}-title` : undefined;
  return (
    <section className={`panel ${className ?? ""}`} aria-labelledby={hid} id={id}>
      <header className="panel-head">
        <h2 id={hid}>
          {icon}
          <span>{title}</span>
        </h2>
        {actions && <div className="panel-actions">{actions}</div>}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}
