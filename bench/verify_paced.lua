-- verify_paced.lua: verify.lua at a fixed request rate, for latency.
--   wrk -t1 -c64 -d10s -s bench/verify_paced.lua URL -- CREDS FIRST LAST RATE
-- wrk has no rate control of its own: delay() spaces this thread's requests
-- on a schedule of RATE per second (start + k / RATE), read from the
-- monotonic clock through LuaJIT's FFI. wrk's delays have millisecond
-- resolution, so requests leave in small bursts each millisecond (RATE/1000
-- at a time); the connections must be enough to hold the rate (each waits for
-- its answer before its next request). Latency is wrk's: from the moment a
-- request is written to its answer.
dofile((os.getenv("KS_BENCH_DIR") or "bench") .. "/verify.lua")

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

local interval, next_at

function init(args)
   load_requests(args)
   interval = 1 / tonumber(args[4])
end

function delay()
   local t = now()
   if not next_at or next_at < t - 0.05 then next_at = t end -- fell behind: do not burst to catch up
   local wait = next_at - t
   next_at = next_at + interval
   return wait > 0 and math.floor(wait * 1000) or 0
end
