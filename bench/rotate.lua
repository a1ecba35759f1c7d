-- wrk script: every request takes the next line ("METHOD PATH") of a file, so that each approval
-- hits a different pending run. Thread i of n takes lines i, i+n, i+2n... A thread that runs past
-- its lines starts over; done() reports the repeats, so the bench knows its stock ran out, and
-- how many lines each thread took, so the next run starts with the lines still unused. With "once"
-- as its third argument a thread stops instead of starting over (its latencies stay clean).
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, count = args[1], tonumber(args[2])
  lines, issued, answered, once = {}, 0, 0, args[3] == "once"
  local n = 0
  for line in io.lines(file) do
    if n % count == thread_index then
      local method, path = line:match("^(%S+)%s+(%S+)$")
      table.insert(lines, wrk.format(method, path))
    end
    n = n + 1
  end
  available = #lines
end

function request()
  issued = issued + 1
  return lines[(issued - 1) % available + 1]
end

function response()
  answered = answered + 1
  if once and answered >= available then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local repeated, issued = 0, {}
  for _, thread in ipairs(threads) do
    repeated = repeated + math.max(0, thread:get("issued") - thread:get("available"))
    table.insert(issued, tostring(thread:get("issued")))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"mean_us": %.1f, "max_us": %d, "status_errors": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "repeated": %d, "issued": [%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, repeated, table.concat(issued, ", ")))
end
