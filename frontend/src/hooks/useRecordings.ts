// hooks/useRecordings.ts - the session's recordings list: load, refresh, delete.
import { useCallback, useEffect, useRef, useState } from "react";
import { deleteRecording, listRecordings } from "../lib/api";
import type { Recording } from "../protocol/types";

export interface RecordingsState {
  items: Recording[];
  loading: boolean;
  error: string | null;
  refresh: () => Promise<void>;
  remove: (filename: string) => Promise<void>;
}

export function useRecordings(apiBase: string, sessionId: string): RecordingsState {
  const [items, setItems] = useState<Recording[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abortRef = useRef<AbortController | null>(null);

  const refresh = useCallback(async () => {
    abortRef.current?.abort();
    const ac = new AbortController();
    abortRef.current = ac;
    setLoading(true);
    try {
      const list = await listRecordings(apiBase, sessionId, { signal: ac.signal });
      if (!ac.signal.aborted) {
        setItems(list);
        setError(null);
      }
    } catch (e) {
      if (!ac.signal.aborted) setError(`Could not load recordings: ${(e as Error).message}`);
    } finally {
      if (!ac.signal.aborted) setLoading(false);
    }
  }, [apiBase, sessionId]);

  const remove = useCallback(
    async (filename: string) => {
      try {
        await deleteRecording(apiBase, filename);
      } catch (e) {
        const msg = (e as Error).message;
        await refresh();
        throw new Error(`Could not delete ${filename}: ${msg}`);
      }
      setItems((old) => old.filter((r) => r.filename !== filename));
      await refresh();
    },
    [apiBase, refresh],
  );

  useEffect(() => {
    void refresh();
    return () => abortRef.current?.abort();
  }, [refresh]);

  return { items, loading, error, refresh, remove };
}
