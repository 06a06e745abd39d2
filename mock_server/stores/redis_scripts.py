r"""The Lua scripts of :class:`~mock_server.stores.redis.RedisStore`: the steps that must be
atomic (an add guarded by the clock, a ledger step, both together, a compare-and-set).

What a script costs Redis is mostly its calls (each ``redis.call`` is 1-3 us of server CPU on
Redis 7, several times the command itself) and the bytes it is handed (a 1.5 kB argument costs
about 7 us to bring into Lua). So the create's step (:data:`ADD_HELD`) is written for few
calls: the record is not handed to the script but written beside it under a staging key, which
the script renames into place or deletes; tasks that ended are settled in one batch per step
(``HMGET`` of their holds, one ``HINCRBY`` per counter, one ``HDEL`` and one ``ZREM``), and a
create on an unlimited balance (nothing to admit) settles only every :data:`SETTLE_EVERY`-th
time: every wallet read settles first, so what a reader sees is the same.

Wallet layout: the wallet hash (``frozen``, ``used``), the holds hash (task -> ``"AT COST
OK"``), the ends sorted set (members ``"AT|task"``, all scored 0: ends are compared as
fixed-width digit text, exact beyond 2^53). ``\255`` in a script is the byte 255 (after any
digit or id character), so ``[NOW|\255`` bounds every end up to NOW.
"""

from __future__ import annotations

from typing import Final

#: Creates on an unlimited balance between two settlements in the create step.
SETTLE_EVERY: Final = 64

#: Holds settled per batch (``unpack`` has a bounded stack).
_SETTLE_BATCH: Final = 500

#: Settle every hold of a wallet that ended by ``now``; then read the wallet.
_FUNCTIONS: Final = (
    r"""
local function settle(wallet, holds, ends, now)
  local top = '[' .. now .. '|\255'
  while true do
    local due = redis.call('ZRANGEBYLEX', ends, '-', top, 'LIMIT', 0, BATCH)
    local n = #due
    if n == 0 then return end
    local tasks, seen = {}, {}
    for i = 1, n do
      local member = due[i]
      local task = string.sub(member, string.find(member, '|', 1, true) + 1)
      if not seen[task] then seen[task] = true; tasks[#tasks + 1] = task end
    end
    local held = redis.call('HMGET', holds, unpack(tasks))
    local freed, used = 0, 0
    for i = 1, #tasks do
      if held[i] then
        local cost, ok = string.match(held[i], ' (%d+) (%d)$')
        freed = freed + tonumber(cost)
        if ok == '1' then used = used + tonumber(cost) end
      end
    end
    if freed ~= 0 then redis.call('HINCRBY', wallet, 'frozen', -freed) end
    if used ~= 0 then redis.call('HINCRBY', wallet, 'used', used) end
    redis.call('HDEL', holds, unpack(tasks))
    redis.call('ZREM', ends, unpack(due))
    if n < BATCH then return end
  end
end
local function read(wallet)
  local found = redis.call('HMGET', wallet, 'frozen', 'used')
  return tonumber(found[1] or '0'), tonumber(found[2] or '0')
end
local function hold(holds, ends, task, at, cost, ok)
  redis.call('HSET', holds, task, at .. ' ' .. cost .. ' ' .. ok)
  if at ~= '-' then redis.call('ZADD', ends, 0, at .. '|' .. task) end
end
"""
).replace("BATCH", str(_SETTLE_BATCH))

#: Store a new record and index it, atomically: 0 if the id exists, -1 if the guard key
#: (KEYS[5], when given) does not hold ARGV[4].
ADD: Final = """
if KEYS[5] and redis.call('GET', KEYS[5]) ~= ARGV[4] then return -1 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], seq, ARGV[2])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[4], seq, ARGV[2]) end
return seq
"""

#: ``TaskStore.ledger``. KEYS: wallet, holds, ends. ARGV: now (digits), op, task, cost, at
#: (digits or -), ok (1/0), limit. Returns {done, frozen, used}.
LEDGER: Final = (
    _FUNCTIONS
    + """
local wallet, holds, ends = KEYS[1], KEYS[2], KEYS[3]
settle(wallet, holds, ends, ARGV[1])
local op, task, cost, at, ok, limit = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6],
  tonumber(ARGV[7])
local done = 1
local held = false
if op ~= '' then held = redis.call('HGET', holds, task) end
if (op == 'freeze' or op == 'use') and not held then
  if limit > 0 then
    local frozen, used = read(wallet)
    if frozen + used + cost > limit then done = 0 end
  end
  if done == 1 and op == 'use' then
    redis.call('HINCRBY', wallet, 'used', cost)
  elseif done == 1 then
    redis.call('HINCRBY', wallet, 'frozen', cost)
    hold(holds, ends, task, at, cost, ok)
  end
elseif (op == 'freeze' or op == 'track') and held then
  local old, kept = string.match(held, '^(%S+) (%d+)')
  if old ~= '-' then redis.call('ZREM', ends, old .. '|' .. task) end
  hold(holds, ends, task, at, kept, ok)
elseif op == 'release' and held then
  local old, kept = string.match(held, '^(%S+) (%d+)')
  if old ~= '-' then redis.call('ZREM', ends, old .. '|' .. task) end
  redis.call('HDEL', holds, task)
  redis.call('HINCRBY', wallet, 'frozen', -tonumber(kept))
end
local frozen, used = read(wallet)
return {done, frozen, used}
"""
)

#: A create's store step: the record (written beforehand under the staging key KEYS[9], see
#: :meth:`RedisStore.add_held`) renamed into place, indexed, and its cost frozen or charged,
#: or nothing of it (the staging key deleted). KEYS: task, tasks, seq, hooks, guard key,
#: wallet, holds, ends, stage. ARGV: id, hooked (1/0), guard value ('' none), now, op
#: (freeze/use), task, cost, at, ok, limit. Returns {stored, frozen, used}: stored -1 guard
#: failed, 0 the id exists, -2 refused by the ledger, else the creation sequence.
ADD_HELD: Final = (
    _FUNCTIONS
    + """
local wallet, holds, ends, stage = KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local now, cost, limit = ARGV[4], tonumber(ARGV[7]), tonumber(ARGV[10])
if ARGV[3] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[3] then
  redis.call('DEL', stage)
  settle(wallet, holds, ends, now)
  local frozen, used = read(wallet)
  return {-1, frozen, used}
end
if limit > 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DEL', stage) return {0, 0, 0} end
  settle(wallet, holds, ends, now)
  local frozen, used = read(wallet)
  if frozen + used + cost > limit then
    redis.call('DEL', stage)
    return {-2, frozen, used}
  end
end
if redis.call('RENAMENX', stage, KEYS[1]) == 0 then
  redis.call('DEL', stage)
  return {0, 0, 0}
end
redis.call('PERSIST', KEYS[1])
if ARGV[5] == 'use' then
  redis.call('HINCRBY', wallet, 'used', cost)
else
  redis.call('HINCRBY', wallet, 'frozen', cost)
  hold(holds, ends, ARGV[6], ARGV[8], cost, ARGV[9])
end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
if ARGV[2] == '1' then redis.call('ZADD', KEYS[4], seq, ARGV[1]) end
if limit == 0 and seq % EVERY == 0 then settle(wallet, holds, ends, now) end
local frozen, used = read(wallet)
return {seq, frozen, used}
""".replace("EVERY", str(SETTLE_EVERY))
)

#: Compare-and-set: KEYS[1] to ARGV[2] if it holds ARGV[1] (ARGV[3] == '1': if absent).
SWAP: Final = """
local now = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  if now then return 0 end
elseif now ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

#: How long a staged record may wait for its step (ms): one a failed round trip leaves
#: behind expires by itself.
STAGE_MS: Final = 60_000
