-- renew_check.lua: paced renewals, each checked by the next verifies.
--   wrk -t8 -c8 -d10s -s bench/renew_check.lua URL -- OWNER_KEY OWNER_TOKEN CREDS FIRST LAST RATE
-- Each wrk thread (give it exactly one connection: -tN -cN) walks its share
-- of keys FIRST..LAST of CREDS: POST renew
-- {"delete_old":"now"} (as the Owner), then verify with the new token (must
-- be 200 "current"), then with the previous token (must be refused: 401, or
-- 429 rate_limited once the failed-credential throttle, --failed-auth-limit,
-- counts this client's many refused old tokens; those are counted apart as
-- old_token_throttled), then the next key. Renewals start on a schedule of RATE per second in all (RATE / N per
-- thread; see verify_paced.lua); a thread that falls behind (a slow renewal)
-- sends the next ones without waiting until it is back on schedule. Threads, not connections, because a
-- thread's script sees its requests in order only with one connection.
-- done() prints "KSBENCH {json}" with the counts; any *_failed > 0 means a
-- renewal was not visible to the next verify.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } ksb_timespec;
int clock_gettime(int clock, ksb_timespec *ts);
]]
local ts = ffi.new("ksb_timespec")
local function now()
   ffi.C.clock_gettime(1, ts)
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local keys, tokens, n, k = {}, {}, 0, 1
local owner = {}
local phase, fresh = 0, nil
renewals, renew_failed, new_token_failed, old_token_failed, old_token_throttled = 0, 0, 0, 0, 0
local interval, next_at
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   owner = {["X-API-Key"] = args[1], ["X-API-Token"] = args[2], ["Content-Type"] = "application/json"}
   local first, last, line_no = tonumber(args[4]), tonumber(args[5]), 0
   local nthreads = tonumber(os.getenv("KS_BENCH_THREADS") or 1)
   local share = math.floor((last - first + 1) / nthreads)
   first = first + (tid - 1) * share
   last = first + share - 1
   for line in io.lines(args[3]) do
      line_no = line_no + 1
      if line_no >= first and line_no <= last then
         local key, token = line:match("^(%S+) (%S+)$")
         n = n + 1
         keys[n], tokens[n] = key, token
      end
   end
   interval = nthreads / tonumber(args[6])
end

function delay()
   if phase ~= 0 then return 0 end
   local t = now()
   -- Behind schedule (a slow answer): catch up, but never by more than 1 s.
   if not next_at or next_at < t - 1 then next_at = t end
   local wait = next_at - t
   next_at = next_at + interval
   return wait > 0 and math.floor(wait * 1000) or 0
end

function request()
   if phase == 0 then
      return wrk.format("POST", "/api/v1/accounts/bench/keys/" .. keys[k] .. "/renew", owner,
                        '{"delete_old":"now"}')
   end
   local token = phase == 1 and fresh or tokens[k]
   return wrk.format("GET", "/api/v1/verify", {["X-API-Key"] = keys[k], ["X-API-Token"] = token})
end

function response(status, headers, body)
   if phase == 0 then
      fresh = status == 200 and body:match('"token":"(kstt_%w+)"')
      if fresh then
         renewals = renewals + 1
         phase = 1
      else
         renew_failed = renew_failed + 1
         k = k % n + 1
      end
   elseif phase == 1 then
      if status ~= 200 or not body:find('"token":"current"', 1, true) then
         new_token_failed = new_token_failed + 1
      end
      phase = 2
   else
      if status == 429 and body:find('"reason":"rate_limited"', 1, true) then
         old_token_throttled = old_token_throttled + 1 -- refused too, by the throttle
      elseif status ~= 401 then
         old_token_failed = old_token_failed + 1
      end
      tokens[k] = fresh
      phase = 0
      k = k % n + 1
   end
end

function done(summary, latency, requests)
   local sum = {renewals = 0, renew_failed = 0, new_token_failed = 0, old_token_failed = 0, old_token_throttled = 0}
   for _, t in ipairs(threads) do
      for name in pairs(sum) do sum[name] = sum[name] + t:get(name) end
   end
   io.write(string.format(
      'KSBENCH {"renewals":%d,"renew_failed":%d,"new_token_failed":%d,"old_token_failed":%d,' ..
      '"old_token_throttled":%d,"duration_us":%d,"renewals_per_s":%.1f}\n',
      sum.renewals, sum.renew_failed, sum.new_token_failed, sum.old_token_failed, sum.old_token_throttled,
      summary.duration, sum.renewals / summary.duration * 1e6))
end
