-- wrk_rest.lua - the REST load of load_rest.c for wrk: GET /recordings
-- lists and downloads (whole and ranged) of real recordings, in turn.
--
-- NOTES: the paths come as the script's arguments (after "--"); a path
-- starting with "R" followed by a space is sent with a Range header. Each
-- thread counts the statuses it saw; done() adds them up over the threads
-- and prints "status CODE COUNT" lines, then wrk's own error counts, so
-- the test can tell a 5xx or a 4xx from a socket error.

local threads = {}

function setup(thread)
   thread:set("first", #threads)
   table.insert(threads, thread)
end

function init(args)
   reqs = {}
   for i, a in ipairs(args) do
      if a:sub(1, 2) == "R " then
         reqs[i] = wrk.format("GET", a:sub(3), { ["Range"] = "bytes=1000-66535" })
      else
         reqs[i] = wrk.format("GET", a)
      end
   end
   statuses = {}
   idx = first or 0
end

function request()
   idx = idx % #reqs + 1
   return reqs[idx]
end

function response(status, headers, body)
   local k = tostring(status)
   statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses")) do
         total[k] = (total[k] or 0) + v
      end
   end
   for k, v in pairs(total) do
      io.write(string.format("status %s %d\n", k, v))
   end
   local e = summary.errors
   io.write(string.format("errors connect %d read %d write %d status %d timeout %d\n",
      e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format("requests %d bytes %d seconds %.3f\n", summary.requests,
      summary.bytes, summary.duration / 1e6))
   io.write(string.format("latency p50 %.0f p99 %.0f max %.0f us\n",
      latency:percentile(50), latency:percentile(99), latency.max))
end
