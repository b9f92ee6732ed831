-- wrk script: a fixed amount of work, not a time window. wrk -t1 exits once BENCH_N answers
-- have arrived (the connections still open are dropped with it); it prints that count.
local limit = tonumber(os.getenv("BENCH_N") or "0")
local seen = 0
local bad = 0

response = function(status, headers, body)
  seen = seen + 1
  if status >= 300 then bad = bad + 1 end
  if limit > 0 and seen >= limit then
    io.write(string.format('\nBENCH-COUNT {"requests":%d,"non2xx":%d}\n', seen, bad))
    io.flush()
    os.exit(0)
  end
end
