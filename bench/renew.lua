-- renew.lua: renewals as fast as they go, for durable write throughput.
--   wrk -t1 -c16 -d10s -s bench/renew.lua URL -- OWNER_KEY OWNER_TOKEN CREDS FIRST LAST
-- POST renew {"delete_old":"now"} as the Owner, rotating over keys
-- FIRST..LAST of CREDS (their tokens change: do not verify them afterwards).
-- Every 200 is a committed, fsynced transaction (synchronous=FULL).
local reqs, n, i = {}, 0, 0

function init(args)
   local owner = {["X-API-Key"] = args[1], ["X-API-Token"] = args[2], ["Content-Type"] = "application/json"}
   local first, last, line_no = tonumber(args[4]), tonumber(args[5]), 0
   for line in io.lines(args[3]) do
      line_no = line_no + 1
      if line_no >= first and line_no <= last then
         local key = line:match("^(%S+) ")
         n = n + 1
         reqs[n] = wrk.format("POST", "/api/v1/accounts/bench/keys/" .. key .. "/renew", owner,
                              '{"delete_old":"now"}')
      end
   end
   i = math.random(n) - 1
end

function request()
   i = i + 1
   if i > n then i = 1 end
   return reqs[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'KSBENCH {"requests":%d,"duration_us":%d,"rps":%.1f,"errors":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d}\n',
      summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
      e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
