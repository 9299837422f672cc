-- wrk script for make bench-serve (bench/serve/run.sh): requests of one kind, or the mixed
-- workload of the Manushya.ai guide's load test: 70% search, 20% add, 10% get by id.
-- Environment: MN_KEY (an API key), MN_IDS (a file of memory ids, one a line), MN_ROUTE
-- (mix, search, add or get); MN_THINK_MS: users with think time: each connection waits a random
-- 0.5 to 1.5 times that long (ms) after an answer before its next request (wrk's delay(); the
-- wait is not counted as latency); unset or 0: each connection asks again at once (closed
-- loop). MN_FIRST (with think time): how many connections this wrk thread has. wrk sends every
-- connection's first request at once, before any delay: those are gets, the cheap route, so
-- that the users' start does not count as a burst of searches no user would send.
local key = os.getenv("MN_KEY")
local route = os.getenv("MN_ROUTE") or "mix"
local ids = {}
for line in io.lines(os.getenv("MN_IDS")) do ids[#ids + 1] = line end
local words = {"tea", "trip", "japan", "meeting", "plants", "birthday", "project", "invoice",
               "doctor", "music", "coffee", "train", "school", "garden", "budget", "flight"}
local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
local n = 0
local think = tonumber(os.getenv("MN_THINK_MS") or "0")
local first = think > 0 and tonumber(os.getenv("MN_FIRST") or "0") or 0
local sent = 0

local function word() return words[math.random(#words)] end

local function search()
  return wrk.format("POST", "/v1/memory/search", headers,
                    '{"query":"' .. word() .. " " .. word() .. '","k":10}')
end

local function add()
  n = n + 1
  return wrk.format("POST", "/v1/memory", headers, '{"text":"load note ' .. n .. " "
                    .. math.random(1000000000) .. " about " .. word() .. " and " .. word()
                    .. '"}')
end

local function get()
  return wrk.format("GET", "/v1/memory/" .. ids[math.random(#ids)], headers)
end

local pick = {search = search, add = add, get = get}

request = function()
  sent = sent + 1
  if sent <= first then return get() end
  if route ~= "mix" then return pick[route]() end
  local r = math.random(100)
  if r <= 70 then return search() elseif r <= 90 then return add() else return get() end
end

if think > 0 then
  delay = function() return math.floor(think * (0.5 + math.random())) end
end

-- The client's latency percentiles, in microseconds, for run.sh (wrk's own table has no p95).
done = function(summary, latency, requests)
  io.write(string.format("percentiles_us %d %d %d\n", latency:percentile(50),
                         latency:percentile(95), latency:percentile(99)))
end
