import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { type Doc, onConnected, request, subscribe } from "./api.ts";
import { AUDIT_EVENTS } from "./documents.ts";

export interface QueryState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  refetch: () => Promise<void>;
}

/** Runs a query when `key` changes; `refetch` runs it again (keeping the shown data until the answer). */
export function useQuery<TData, TVars>(document: Doc<TData, TVars>, variables: TVars, key: string): QueryState<TData> {
  const [state, setState] = useState<{ data: TData | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const latest = useRef({ key, variables });
  latest.current = { key, variables };
  const seq = useRef(0);
  const refetch = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const data = await request(document, latest.current.variables);
      if (mine === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((old) => ({ data: old.data, error, loading: false }));
    }
  }, [document]);
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    void refetch();
  }, [key, refetch]);
  return { ...state, refetch };
}

/**
 * Keeps a page live: every audit event that matches `filter` (a project, an entity) refetches the page's
 * query (coalesced: at most one refetch in flight, one more queued), and so does every reconnect.
 */
export function useLiveRefetch(filter: { projectId?: string; entityId?: string } | null, refetch: () => Promise<void>) {
  const filterKey = JSON.stringify(filter);
  const refetchRef = useRef(refetch);
  refetchRef.current = refetch;
  useEffect(() => {
    if (filter === null) return;
    let running = false;
    let again = false;
    const run = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          await refetchRef.current();
        } while (again);
      } finally {
        running = false;
      }
    };
    const stop = subscribe(AUDIT_EVENTS, { filter }, () => void run());
    const off = onConnected(() => void run());
    return () => {
      stop();
      off();
    };
    // The filter is compared by value (filterKey): a new object with the same filter keeps the subscription.
  }, [filterKey]);
}

/** The current time, re-rendered every second (countdowns). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export const useTitle = (title: string): void => {
  useEffect(() => {
    document.title = `${title} · Release pipelines`;
  }, [title]);
};
