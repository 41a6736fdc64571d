-- webhook_test.lua: test events at a fixed rate, each one webhook delivery.
--   wrk -tN -cN -d10s -s bench/webhook_test.lua URL -- OWNER_KEY OWNER_TOKEN PATH RATE
-- POSTs PATH (/api/v1/accounts/bench/webhooks/{id}/test) as the Owner on a
-- schedule of RATE per second in all, RATE/N per thread (KS_BENCH_THREADS;
-- one connection each: a test event is a durable write, ~30 ms here, so one
-- connection alone tops out near 30/s). See verify_paced.lua for the pacing;
-- behind schedule, a thread catches up by at most 1 s. done() prints "KSBENCH {json}":
-- the events accepted (202) and refused.
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

local req, interval, next_at
accepted, refused = 0, 0
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   req = wrk.format("POST", args[3], {["X-API-Key"] = args[1], ["X-API-Token"] = args[2]})
   interval = tonumber(os.getenv("KS_BENCH_THREADS") or 1) / tonumber(args[4])
end

function delay()
   local t = now()
   if not next_at or next_at < t - 1 then next_at = t end
   local wait = next_at - t
   next_at = next_at + interval
   return wait > 0 and math.floor(wait * 1000) or 0
end

function request()
   return req
end

function response(status, headers, body)
   if status == 202 then accepted = accepted + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
   local a, r = 0, 0
   for _, t in ipairs(threads) do
      a, r = a + t:get("accepted"), r + t:get("refused")
   end
   io.write(string.format('KSBENCH {"accepted":%d,"refused":%d,"duration_us":%d,"per_s":%.1f}\n',
                          a, r, summary.duration, a / summary.duration * 1e6))
end
