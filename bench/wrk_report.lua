-- Shared by every scenario: cycles through request bodies (if any) and prints a JSON summary.
local bodies = BODIES or {}
local i = 0
local non2xx = 0

request = function()
  if #bodies > 0 then
    i = i % #bodies + 1
    return wrk.format(nil, nil, nil, bodies[i])
  end
  return wrk.format()
end

response = function(status, headers, body)
  if status ~= EXPECT then non2xx = non2xx + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors_socket": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
