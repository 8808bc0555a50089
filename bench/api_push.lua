-- wrk script for bench/api_bench.sh: POST /v1/push (or /v1/push/batch with BATCH > 1) over
-- keep-alive connections. Requests are built once in init() and cycled, so wrk spends its CPU on
-- sockets, not on Lua string building. Each push goes to one of UIDS receivers "r0".."r<UIDS-1>",
-- with a fixed 32-byte message so the receivers can count frames from byte totals.
local uids = tonumber(os.getenv("UIDS") or "32")
local batch = tonumber(os.getenv("BATCH") or "1")
local key = os.getenv("API_KEY") or "benchkey"
local requests = {}
local next_index = 1

local function message(i)
    local m = string.format("order %010d has shipped", i)
    m = m .. string.rep("!", 32 - #m)
    assert(#m == 32, "bench messages are 32 bytes: api_receivers.py counts 34-byte frames")
    return m
end

function init(args)
    local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
    for r = 0, uids - 1 do
        local body
        if batch == 1 then
            body = string.format('{"uid":"r%d","message":"%s"}', r, message(r))
            requests[#requests + 1] = wrk.format("POST", "/v1/push", headers, body)
        else
            local items = {}
            for i = 0, batch - 1 do
                items[#items + 1] = string.format('{"uid":"r%d","message":"%s"}', (r + i) % uids, message(i))
            end
            body = "[" .. table.concat(items, ",") .. "]"
            requests[#requests + 1] = wrk.format("POST", "/v1/push/batch", headers, body)
        end
    end
end

function request()
    local req = requests[next_index]
    next_index = next_index % #requests + 1
    return req
end

function done(summary, latency, reqs)
    io.write(string.format("WRK requests=%d non2xx=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
        summary.requests, summary.errors.status,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        summary.duration, latency:percentile(50), latency:percentile(99)))
end
