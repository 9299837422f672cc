-- wrk script for make bench-serve (bench/serve/run.sh): requests of one kind, or the mixed
-- workload of the Manushya.ai guide's load test: 70% search, 20% add, 10% get by id.
-- Environment: MN_KEY (an API key), MN_IDS (a file of memory ids, one a line), MN_ROUTE
-- (mix, search, add or get).
local key = os.getenv("MN_KEY")
local route = os.getenv("MN_ROUTE") or "mix"
local ids = {}
for line in io.lines(os.getenv("MN_IDS")) do ids[#ids + 1] = line end
local words = {"tea", "trip", "japan", "meeting", "plants", "birthday", "project", "invoice",
               "doctor", "music", "coffee", "train", "school", "garden", "budget", "flight"}
local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
local n = 0

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
  if route ~= "mix" then return pick[route]() end
  local r = math.random(100)
  if r <= 70 then return search() elseif r <= 90 then return add() else return get() end
end

-- The client's latency percentiles, in microseconds, for run.sh (wrk's own table has no p95).
done = function(summary, latency, requests)
  io.write(string.format("percentiles_us %d %d %d\n", latency:percentile(50),
                         latency:percentile(95), latency:percentile(99)))
end
