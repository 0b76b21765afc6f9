-- Headless tests of heapd.nvim against a real heapd (started by run.sh).
-- Environment: HEAPD_SOCKET (the daemon's socket), HEAPD_NVIM_PLUGIN (the
-- plugin directory), HEAPD_TEST_TMP (a scratch directory outside the repo).
-- Prints one line per test and `nvim: N passed, M failed`; exits non-zero on
-- any failure.

local passed, failed = 0, 0

local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

local function test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
    out('ok - ' .. name)
  else
    failed = failed + 1
    out('FAIL - ' .. name .. '\n' .. tostring(err))
  end
end

local function check(cond, msg, level)
  if not cond then
    error(msg or 'check failed', (level or 1) + 1)
  end
end

local function eq(actual, expected, what)
  if actual ~= expected then
    error(string.format('%s: expected %s, got %s', what or 'value', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

local function wait_for(cond, what, timeout)
  if not vim.wait(timeout or 5000, cond, 10) then
    error('timed out waiting for ' .. what, 2)
  end
end

local function buf_text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

local function has(text, needle)
  return text:find(needle, 1, true) ~= nil
end

local function expect_has(text, needle, what)
  if not has(text, needle) then
    error(string.format('%s: %q not found in:\n%s', what or 'text', needle, text), 2)
  end
end

local function expect_lacks(text, needle, what)
  if has(text, needle) then
    error(string.format('%s: %q unexpectedly found in:\n%s', what or 'text', needle, text), 2)
  end
end

local function feed(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'mx', false)
end

-- Put the cursor on the first line of the current buffer containing needle.
local function cursor_to(needle)
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  for i, l in ipairs(lines) do
    local col = l:find(needle, 1, true)
    if col then
      vim.api.nvim_win_set_cursor(0, { i, col - 1 })
      return i
    end
  end
  error('no line with ' .. vim.inspect(needle) .. ' in:\n' .. table.concat(lines, '\n'), 2)
end

vim.cmd('runtime plugin/heapd.lua')
vim.o.columns = 200

local heapd = require('heapd')
local ui = require('heapd.ui')
local json = require('heapd.json')
local rpc = require('heapd.rpc')

local SOCKET = assert(vim.env.HEAPD_SOCKET, 'HEAPD_SOCKET not set')
local TMP = assert(vim.env.HEAPD_TEST_TMP, 'HEAPD_TEST_TMP not set')
local PLUGIN = assert(vim.env.HEAPD_NVIM_PLUGIN, 'HEAPD_NVIM_PLUGIN not set')
local SESSION = 'nvim-' .. vim.fn.getpid()

-- Run a :HeapCall and return its result (waiting for it).
local function heapcall(method, params)
  local before = heapd.state.last_result
  heapd.state.last_result = nil
  local errors_before = #heapd.state.messages
  vim.cmd('HeapCall ' .. method .. (params and (' ' .. json.encode(params)) or ''))
  wait_for(function()
    if heapd.state.last_result ~= nil then
      return true
    end
    for i = errors_before + 1, #heapd.state.messages do
      if heapd.state.messages[i].level == vim.log.levels.ERROR then
        return true
      end
    end
    return false
  end, ':HeapCall ' .. method)
  local r = heapd.state.last_result
  if r == nil then
    heapd.state.last_result = before
    error(':HeapCall ' .. method .. ' failed: ' .. tostring(heapd.last_message()), 2)
  end
  return r
end

-- :HeapInspect id, waiting until the buffer shows that object (or an error).
local function inspect(id)
  vim.cmd('HeapInspect ' .. tostring(id))
  local buf = ui.buffer('inspect')
  check(buf, 'no inspect buffer')
  wait_for(function()
    local t = buf_text(buf)
    return has(t, 'heapd inspect #' .. id .. '\n')
      and (has(t, 'object       #' .. id .. ' ') or has(t, 'error: '))
      and not has(t, '(loading…)')
  end, 'the inspect buffer of #' .. id)
  return buf, buf_text(buf)
end

------------------------------------------------------------------------------
-- Units: JSON, framing, socket path

test('json: exact integers, null, empty containers, strings', function()
  eq(json.encode(2 ^ 53 - 1), '9007199254740991', 'largest id')
  eq(json.encode({ id = 2 ^ 53 - 1 }), '{"id":9007199254740991}', 'id in object')
  eq(json.encode({}), '[]', 'empty table')
  eq(json.encode(vim.empty_dict()), '{}', 'empty dict')
  eq(json.encode({ fields = { partner = vim.NIL } }), '{"fields":{"partner":null}}', 'null field')
  eq(json.encode(1.5), '1.5', 'real')
  local s = 'tab\t nl\n quote" back\\ ctl\1 €'
  eq(json.decode(json.encode(s)), s, 'string round trip')
  local d = json.decode('{"a":null,"b":[1,2],"c":{}}')
  eq(d.a, vim.NIL, 'decoded null')
  eq(json.encode(d), '{"a":null,"b":[1,2],"c":{}}', 're-encoded')
end)

test('framing: split chunks, several frames, UTF-8 lengths, broken header', function()
  local b1 = '{"jsonrpc":"2.0","id":1,"result":{"name":"Zoë"}}'
  local b2 = '{"jsonrpc":"2.0","method":"freed","params":{"ids":[1,2]}}'
  local stream = rpc.frame(b1) .. 'content-length: ' .. #b2 .. '\r\nContent-Type: x\r\n\r\n' .. b2
  local p = rpc.new_parser()
  local got = {}
  for i = 1, #stream do
    for _, body in ipairs(p.feed(stream:sub(i, i))) do
      got[#got + 1] = body
    end
  end
  eq(#got, 2, 'frames')
  eq(got[1], b1, 'first body')
  eq(got[2], b2, 'second body')
  eq(p.pending(), 0, 'left over')
  local ok = pcall(rpc.new_parser().feed, 'Content-Length: x\r\n\r\n{}')
  eq(ok, false, 'bad Content-Length raises')
end)

test('default socket: config, $HEAPD_SOCKET, $XDG_RUNTIME_DIR, /tmp/heapd-$UID', function()
  local saved_h, saved_x = vim.env.HEAPD_SOCKET, vim.env.XDG_RUNTIME_DIR
  local ok, err = pcall(function()
    vim.env.HEAPD_SOCKET = '/a/b.sock'
    vim.env.XDG_RUNTIME_DIR = '/run/user/77'
    eq(heapd.default_socket(), '/a/b.sock', 'HEAPD_SOCKET')
    vim.env.HEAPD_SOCKET = nil
    eq(heapd.default_socket(), '/run/user/77/heapd/heapd.sock', 'XDG_RUNTIME_DIR')
    vim.env.XDG_RUNTIME_DIR = nil
    eq(heapd.default_socket(), '/tmp/heapd-' .. vim.loop.getuid() .. '/heapd.sock', 'fallback')
    heapd.setup({ socket = '/c/d.sock' })
    eq(heapd.default_socket(), '/c/d.sock', 'config')
    heapd.setup({})
  end)
  vim.env.HEAPD_SOCKET, vim.env.XDG_RUNTIME_DIR = saved_h, saved_x
  check(ok, err)
end)

test(':help heapd (helptags in a copy of doc/)', function()
  local docdir = TMP .. '/rtp/doc'
  vim.fn.mkdir(docdir, 'p')
  vim.fn.writefile(vim.fn.readfile(PLUGIN .. '/doc/heapd.txt'), docdir .. '/heapd.txt')
  vim.cmd('helptags ' .. vim.fn.fnameescape(docdir))
  local tags = vim.fn.readfile(docdir .. '/tags')
  check(#tags >= 10, 'expected at least 10 tags, got ' .. #tags)
  vim.opt.runtimepath:append(TMP .. '/rtp')
  for _, tag in ipairs({ 'heapd', ':HeapConnect', ':HeapStats', ':HeapInspect', ':HeapReferrers',
    ':HeapCollect', ':HeapCall', 'heapd-config', 'heapd-api' }) do
    vim.cmd('help ' .. tag)
    check(vim.api.nvim_buf_get_name(0):match('heapd%.txt$'), ':help ' .. tag .. ' opened ' .. vim.api.nvim_buf_get_name(0))
    vim.cmd('helpclose')
  end
end)

------------------------------------------------------------------------------
-- Against the daemon

test(':HeapConnect to a missing socket says how to start heapd', function()
  local done, cerr = false, nil
  heapd.connect(TMP .. '/nope.sock', function(err)
    done, cerr = true, err
  end)
  wait_for(function()
    return done
  end, 'the failed connect')
  check(cerr ~= nil, 'expected an error')
  local msg = heapd.last_message()
  expect_has(msg, 'cannot connect to ' .. TMP .. '/nope.sock', 'message')
  expect_has(msg, 'is heapd running?', 'message')
  check(not heapd.is_connected(), 'should not be connected')
  -- A file that is no socket: starting heapd there is no advice.
  local plain = TMP .. '/plain-file'
  vim.fn.writefile({ 'x' }, plain)
  done = false
  heapd.connect(plain, function()
    done = true
  end)
  wait_for(function()
    return done
  end, 'the second failed connect')
  msg = heapd.last_message()
  expect_has(msg, 'cannot connect to ' .. plain, 'message')
  expect_has(msg, 'it is not a socket', 'message')
  expect_lacks(msg, 'start it with', 'message')
end)

test(':HeapConnect (default socket from $HEAPD_SOCKET) opens the named session and subscribes', function()
  vim.cmd('HeapConnect')
  wait_for(function()
    return heapd.is_connected()
  end, 'connection')
  eq(heapd.state.socket, SOCKET, 'socket')
  eq(heapd.state.session, SESSION, 'session')
  local subscribed = table.concat(heapd.state.subscribed, ',')
  expect_has(subscribed, 'gc.stop', 'subscriptions')
  expect_has(subscribed, 'freed', 'subscriptions')
  local err, r = heapd.request_sync('ping', nil)
  check(err == nil and r.pong == true, 'ping')
end)

local alice, bob
local inspect_bob_text

test('Person cycle: allocate alice and bob (finalizer) and link partners with :HeapCall', function()
  alice = heapcall('allocate', { type = 'Person', data = { name = 'Alice' } }).id
  bob = heapcall('allocate', { type = 'Person', data = { name = 'Bob' }, finalizer = true }).id
  check(type(alice) == 'number' and type(bob) == 'number', 'ids')
  local r = heapcall('set', { id = alice, fields = { partner = bob } })
  eq(r.refcount, 1, "alice's refcount after alice.partner = bob")
  r = heapcall('set', { id = bob, fields = { partner = alice } })
  eq(r.refcount, 2, "bob's refcount after bob.partner = alice")
end)

test(':HeapInspect bob shows type, refcount 2, its holders and the partner field', function()
  local _, text = inspect(bob)
  inspect_bob_text = text
  expect_has(text, 'object       #' .. bob .. ' Person')
  expect_has(text, 'refcount     2   (sys.getrefcount: 3)')
  expect_has(text, 'finalizer    yes (not finalized)')
  expect_has(text, 'data         {"name":"Bob"}')
  expect_has(text, 'holders (2 references)')
  expect_has(text, '  field    #' .. alice .. ' Person .partner')
  expect_has(text, '  session  ' .. SESSION .. ' ×1')
  expect_has(text, 'fields (1)')
  expect_has(text, '▸ partner = #' .. alice .. ' Person  refcount 2')
  expect_has(text, 'referrers    #' .. alice)
  out('--- HeapInspect ---')
  out(text)
  out('--- end HeapInspect ---')
end)

test(':HeapInspect alice shows refcount 2 held by bob.partner and the session', function()
  local _, text = inspect(alice)
  expect_has(text, 'object       #' .. alice .. ' Person')
  expect_has(text, 'refcount     2   (sys.getrefcount: 3)')
  expect_has(text, 'finalizer    no')
  expect_has(text, '  field    #' .. bob .. ' Person .partner')
end)

test('inspect buffer: <CR> follows an id, o expands the field tree, <BS> goes back', function()
  local buf = inspect(bob)
  eq(vim.api.nvim_get_current_buf(), buf, 'inspect buffer is current')
  -- expand bob.partner: alice's own fields appear beneath it, the cycle marked
  cursor_to('partner = #' .. alice)
  feed('o')
  wait_for(function()
    return has(buf_text(buf), 'partner = #' .. bob .. ' Person  refcount 2  (cycle)')
  end, 'the expanded field')
  expect_has(buf_text(buf), '▾ partner = #' .. alice)
  -- <CR> on the field line inspects alice
  cursor_to('partner = #' .. alice)
  feed('<CR>')
  wait_for(function()
    local t = buf_text(buf)
    return has(t, 'object       #' .. alice .. ' Person') and has(t, 'refcount     2')
  end, 'alice after <CR>')
  expect_has(buf_text(buf), '  field    #' .. bob .. ' Person .partner')
  -- <CR> on a holder line inspects the holder
  cursor_to('field    #' .. bob)
  feed('<CR>')
  wait_for(function()
    return has(buf_text(buf), 'object       #' .. bob .. ' Person')
  end, 'bob after <CR> on a holder')
  -- <BS> goes back to alice
  feed('<BS>')
  wait_for(function()
    return has(buf_text(buf), 'object       #' .. alice .. ' Person')
  end, 'alice after <BS>')
end)

test(':HeapInspect without argument takes the integer under the cursor', function()
  vim.cmd('enew')
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'bob is object ' .. bob .. ' in the heap' })
  cursor_to(tostring(bob))
  vim.cmd('HeapInspect')
  local buf = ui.buffer('inspect')
  wait_for(function()
    return has(buf_text(buf), 'object       #' .. bob .. ' Person')
  end, 'bob from the cursor')
end)

test(':HeapReferrers bob: tree of holders, expandable, cycle marked', function()
  vim.cmd('HeapReferrers ' .. bob)
  local buf = ui.buffer('referrers')
  check(buf, 'no referrers buffer')
  wait_for(function()
    return has(buf_text(buf), '▸ #' .. alice .. ' Person .partner  refcount 2')
  end, 'the referrers of bob')
  local text = buf_text(buf)
  expect_has(text, '▾ #' .. bob .. ' Person  refcount 2')
  expect_has(text, '· session ' .. SESSION .. ' ×1')
  cursor_to('#' .. alice .. ' Person .partner')
  feed('o')
  wait_for(function()
    return has(buf_text(buf), '#' .. bob .. ' Person .partner  refcount 2  (cycle)')
  end, "alice's referrers")
  expect_has(buf_text(buf), '▾ #' .. alice .. ' Person .partner')
  -- collapse again
  cursor_to('#' .. alice .. ' Person .partner')
  feed('o')
  wait_for(function()
    return not has(buf_text(buf), '(cycle)')
  end, 'collapse')
  -- <CR> opens the inspect buffer on the referrer
  cursor_to('#' .. alice .. ' Person .partner')
  feed('<CR>')
  local ibuf = ui.buffer('inspect')
  wait_for(function()
    return vim.api.nvim_get_current_buf() == ibuf and has(buf_text(ibuf), 'object       #' .. alice .. ' Person')
  end, 'inspect from the referrers tree')
end)

local stats_buf

test(':HeapStats shows the heap summary', function()
  vim.cmd('HeapStats')
  stats_buf = ui.buffer('stats')
  check(stats_buf, 'no stats buffer')
  wait_for(function()
    return has(buf_text(stats_buf), 'objects ')
  end, 'stats')
  local text = buf_text(stats_buf)
  local objects = tonumber(text:match('\nobjects%s+(%d+)'))
  check(objects and objects >= 2, 'objects count: ' .. tostring(objects))
  expect_has(text, 'gc           enabled')
  expect_has(text, 'generation   objects   count/threshold')
  check(text:match('\nPerson%s+2%s+%d+'), 'Person row in the type table:\n' .. text)
  check(text:match('\n0%s+%d+%s+%d+/700'), 'generation 0 row with threshold 700:\n' .. text)
  expect_has(text, 'session ' .. SESSION)
end)

test('drop the references: refcounts fall to 1, the cycle keeps both alive', function()
  local r = heapcall('unref', { id = alice })
  eq(r.refcount, 1, 'alice after unref')
  r = heapcall('unref', { id = bob })
  eq(r.refcount, 1, 'bob after unref')
  local _, text = inspect(bob)
  expect_has(text, 'refcount     1   (sys.getrefcount: 2)')
  expect_lacks(text, 'session  ' .. SESSION, 'holders after unref')
end)

test(':HeapCollect frees the cycle: finalize, freed and gc.stop arrive before the reply, stats refresh live',
  function()
    local refreshes = tonumber(buf_text(stats_buf):match('%(refresh (%d+)%)'))
    local seq0 = heapd.state.event_seq
    local at_reply, at_first_reply
    -- Note how many events had arrived when :HeapCollect's own reply came in
    -- (the command calls require('heapd').collect without a callback).
    local collect = heapd.collect
    heapd.collect = function(g, cb)
      return collect(g, function(err, r)
        at_first_reply = heapd.state.event_seq
        if cb then
          cb(err, r)
        end
      end)
    end
    local ok, cmd_err = pcall(vim.cmd, 'HeapCollect')
    heapd.collect = collect
    check(ok, cmd_err)
    heapd.collect(nil, function(err, r)
      check(err == nil, 'collect error')
      at_reply = { seq = heapd.state.event_seq, result = r }
    end)
    wait_for(function()
      return at_reply ~= nil
    end, 'the collect reply')
    -- the :HeapCollect message
    local found
    for _, m in ipairs(heapd.state.messages) do
      if m.text:match('^heapd: collect%(2%): 2 unreachable, 2 collected, 0 uncollectable') then
        found = true
      end
    end
    check(found, 'no collect message; last: ' .. tostring(heapd.last_message()))
    -- the events of the first collection
    local kinds, freed_ids, finalized = {}, {}, {}
    for _, ev in ipairs(heapd.state.events) do
      if ev.seq > seq0 then
        kinds[#kinds + 1] = ev.method
        if ev.method == 'freed' then
          for _, id in ipairs(ev.params.ids) do
            freed_ids[id] = true
          end
        elseif ev.method == 'finalize' then
          finalized[ev.params.id] = true
        end
      end
    end
    local ks = table.concat(kinds, ',')
    check(ks:match('^finalize,freed,gc%.stop,gc%.stop'), 'event order: ' .. ks)
    -- Each collection's events came in before its reply, and no later: the
    -- first reply after finalize, freed, gc.stop (seq0+3), the second after
    -- its own gc.stop (seq0+4).
    eq(at_first_reply and at_first_reply - seq0, 3, 'events received when the first collect replied')
    eq(at_reply.seq - seq0, 4, 'events received when the second collect replied')
    check(freed_ids[alice] and freed_ids[bob], 'freed ids: ' .. vim.inspect(freed_ids))
    check(finalized[bob] and not finalized[alice], 'finalize: ' .. vim.inspect(finalized))
    eq(at_reply.result.unreachable, 0, 'second collect finds nothing')
    check(heapd.state.freed[alice] and heapd.state.freed[bob], 'freed set')
    -- the stats buffer refreshed itself from the events
    wait_for(function()
      local t = buf_text(stats_buf)
      return tonumber(t:match('%(refresh (%d+)%)')) > refreshes
        and has(t, 'freed #') and has(t, 'gc.stop generation 2: collected 2, uncollectable 0')
        and not t:match('\nPerson%s+2')
    end, 'the live stats refresh')
    local t = buf_text(stats_buf)
    check(has(t, 'freed #' .. bob .. ' #' .. alice) or has(t, 'freed #' .. alice .. ' #' .. bob), 'freed line:\n' .. t)
    expect_has(t, 'finalize #' .. bob .. ' Person')
  end)

test(':HeapEvents lists the events', function()
  vim.cmd('HeapEvents')
  local buf = ui.buffer('events')
  local t = buf_text(buf)
  expect_has(t, 'subscribed: ')
  expect_has(t, 'finalize #' .. bob .. ' Person')
  expect_has(t, 'gc.stop generation 2: collected 2')
end)

test('error path: inspecting a freed id (and one that never existed) says so clearly', function()
  local _, text = inspect(alice)
  expect_has(text, 'error: object #' .. alice .. ' was freed')
  expect_has(text, '-32001 NoSuchObject')
  eq(heapd.last_message(), 'heapd: inspect #' .. alice .. ': object #' .. alice .. ' was freed', 'message')
  local _, text2 = inspect(987654321)
  expect_has(text2, 'error: object #987654321 never existed')
  vim.cmd('HeapReferrers ' .. bob)
  local rbuf = ui.buffer('referrers')
  wait_for(function()
    return has(buf_text(rbuf), 'error: object #' .. bob .. ' was freed')
  end, 'referrers of a freed id')
end)

test('inspect buffer refreshes when the shown object is freed', function()
  local x = heapcall('allocate', { type = 'Temp' }).id
  local buf, text = inspect(x)
  expect_has(text, 'refcount     1')
  heapcall('unref', { id = x })
  wait_for(function()
    return has(buf_text(buf), 'error: object #' .. x .. ' was freed')
  end, 'the refreshed inspect buffer')
end)

test('roots and weak references in the inspect and referrers buffers', function()
  local x = heapcall('allocate', { type = 'Config' }).id
  heapcall('root.set', { name = 'nvim_test_root', id = x })
  local w = heapcall('weakref', { id = x, callback = true }).id
  local _, text = inspect(x)
  expect_has(text, 'refcount     2')
  expect_has(text, '  root     nvim_test_root')
  expect_has(text, 'weakrefs     #' .. w)
  local _, wtext = inspect(w)
  expect_has(wtext, 'object       #' .. w .. ' weakref')
  expect_has(wtext, 'referent     #' .. x .. ' Config')
  vim.cmd('HeapReferrers ' .. x)
  local rbuf = ui.buffer('referrers')
  wait_for(function()
    return has(buf_text(rbuf), '· root nvim_test_root')
  end, 'the root in the referrer tree')
  expect_has(buf_text(rbuf), '· session ' .. SESSION .. ' ×1')
  -- drop both references: the weakref's callback arrives, the weakref is dead
  heapcall('root.set', { name = 'nvim_test_root' })
  local seq0 = heapd.state.event_seq
  heapcall('unref', { id = x })
  local cb
  for _, ev in ipairs(heapd.state.events) do
    if ev.seq > seq0 and ev.method == 'weakref.callback' then
      cb = ev.params
    end
  end
  check(cb and cb.weakref == w and cb.referent == x, 'weakref.callback: ' .. vim.inspect(cb))
  _, wtext = inspect(w)
  expect_has(wtext, 'referent     null (dead)')
  heapcall('unref', { id = w })
end)

test(':HeapCall errors and large results', function()
  local n = #heapd.state.messages
  vim.cmd('HeapCall get {not json')
  expect_has(heapd.last_message(), 'params are not valid JSON')
  vim.cmd('HeapCall no.such.method')
  wait_for(function()
    return #heapd.state.messages > n + 1
  end, 'the error message')
  expect_has(heapd.last_message(), "method 'no.such.method' not found (MethodNotFound -32601)")
  vim.cmd('HeapCall unref {"id": 987654321}')
  wait_for(function()
    return has(heapd.last_message(), 'unref failed')
  end, 'the unref error')
  expect_has(heapd.last_message(), 'object #987654321 never existed')
  local r = heapcall('gc.get')
  eq(r.enabled, true, 'gc.get enabled')
  -- a big result goes to a buffer
  local d = heapcall('rpc.discover')
  check(type(d.methods) == 'table', 'rpc.discover result')
  local buf = ui.buffer('call')
  check(buf, 'no call buffer')
  expect_has(buf_text(buf), 'heapd rpc.discover result')
  expect_has(buf_text(buf), '"openrpc"')
  -- :HeapCollect with a bad generation
  vim.cmd('HeapCollect 5')
  expect_has(heapd.last_message(), 'generation must be 0, 1 or 2')
end)

test('the named session survives :HeapDisconnect / :HeapConnect', function()
  local x = heapcall('allocate', { type = 'Kept', data = 'survives' }).id
  vim.cmd('HeapDisconnect')
  check(not heapd.is_connected(), 'still connected')
  vim.cmd('HeapConnect ' .. SOCKET)
  wait_for(function()
    return heapd.is_connected()
  end, 'reconnection')
  eq(heapd.state.resumed, true, 'resumed')
  local _, text = inspect(x)
  expect_has(text, 'object       #' .. x .. ' Kept')
  expect_has(text, '  session  ' .. SESSION .. ' ×1')
  -- a second immediate reconnect (daemon may still hold the old connection)
  vim.cmd('HeapConnect')
  vim.cmd('HeapConnect')
  wait_for(function()
    return heapd.is_connected()
  end, 'reconnection')
  eq(heapd.state.session, SESSION, 'session after quick reconnects')
  _, text = inspect(x)
  expect_has(text, '  session  ' .. SESSION .. ' ×1')
end)

test(':HeapCall completes exactly the methods of rpc.discover, fetched once per connection', function()
  check(heapd.is_connected(), 'not connected')
  -- The daemon's list, fetched by the test on a connection of its own.
  local other = rpc.connect(SOCKET, {})
  local err, doc = other:request_sync('rpc.discover', nil, 5000)
  other:close()
  check(err == nil and type(doc.methods) == 'table', 'rpc.discover: ' .. vim.inspect(err))
  local expected, known = {}, {}
  for _, m in ipairs(doc.methods) do
    expected[#expected + 1] = m.name
    known[m.name] = true
  end
  table.sort(expected)
  check(#expected >= 20, 'too few methods: ' .. #expected)
  -- Count the rpc.discover requests the plugin makes on this connection.
  local conn, fetches = heapd.state.conn, 0
  local request = conn.request
  conn.request = function(self, method, ...)
    if method == 'rpc.discover' then
      fetches = fetches + 1
    end
    return request(self, method, ...)
  end
  heapd.state.methods, heapd.state.methods_conn = nil, nil
  local got = vim.fn.getcompletion('HeapCall ', 'cmdline')
  check(vim.deep_equal(got, expected), 'completion ' .. vim.inspect(got) .. '\nexpected ' .. vim.inspect(expected))
  local gc = vim.fn.getcompletion('HeapCall gc.', 'cmdline')
  local want_gc = vim.tbl_filter(function(m)
    return m:sub(1, 3) == 'gc.'
  end, expected)
  check(#want_gc > 0 and vim.deep_equal(gc, want_gc), 'gc. completion: ' .. vim.inspect(gc))
  eq(#vim.fn.getcompletion('HeapCall no.such', 'cmdline'), 0, 'completions of no.such')
  -- Methods the old hard-coded list offered although the daemon has none of them.
  for _, m in ipairs({ 'path', 'cycles', 'dominators', 'histogram', 'snapshot.save', 'snapshot.diff', 'graph' }) do
    if not known[m] then
      check(not vim.tbl_contains(got, m), m .. ' offered but the daemon has no such method')
    end
  end
  eq(fetches, 1, 'rpc.discover requests for three completions on one connection')
  conn.request = nil -- back to the class method
  -- Not connected: nothing is offered, no error, no connection attempt.
  vim.cmd('HeapDisconnect')
  local ok, none = pcall(vim.fn.getcompletion, 'HeapCall ', 'cmdline')
  check(ok, 'completion while disconnected raised: ' .. tostring(none))
  eq(#none, 0, 'completions while disconnected')
  check(heapd.state.conn == nil, 'completion opened a connection')
  -- A new connection fetches the list again.
  vim.cmd('HeapConnect')
  wait_for(function()
    return heapd.is_connected()
  end, 'reconnection')
  got = vim.fn.getcompletion('HeapCall ', 'cmdline')
  check(vim.deep_equal(got, expected), 'completion after reconnecting: ' .. vim.inspect(got))
  check(heapd.state.methods_conn == heapd.state.conn, 'list not fetched on the new connection')
end)

test(':HeapGraph draws the object under the cursor: DOT in a buffer, SVG for a viewer', function()
  local a = heapcall('allocate', { type = 'GraphPerson' }).id
  local b = heapcall('allocate', { type = 'GraphPerson', finalizer = true }).id
  local dog = heapcall('allocate', { type = 'GraphDog' }).id
  heapcall('set', { id = a, fields = { partner = b, pet = dog } })
  heapcall('set', { id = b, fields = { partner = a } })
  local saved = heapd.config.graph_viewer
  heapd.config.graph_viewer = false
  vim.cmd('enew')
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'alice is ' .. a })
  cursor_to(tostring(a))
  heapd.state.last_graph = nil
  vim.cmd('HeapGraph')
  wait_for(function()
    local buf = ui.buffer('graph')
    return buf and has(buf_text(buf), 'digraph heap')
  end, 'the graph buffer')
  local buf = ui.buffer('graph')
  local text = buf_text(buf)
  eq(vim.api.nvim_buf_get_option(buf, 'filetype'), 'dot', 'filetype')
  expect_has(text, '// heapd graph #' .. a .. ': ')
  expect_has(text, '  o' .. a .. ' -> o' .. b .. ' [label="partner"')
  expect_has(text, '  o' .. b .. ' -> o' .. a .. ' [label="partner"')
  expect_has(text, '  o' .. a .. ' -> o' .. dog .. ' [label="pet"]')
  expect_has(text, 'label="GraphPerson\\nid ' .. b .. '  refcount 2\\nhas __del__"')
  -- The file holds the DOT text the buffer shows (after its comment line).
  local g = heapd.state.last_graph
  eq(g.id, a, 'last graph id')
  eq(g.format, 'dot', 'last graph format')
  local lines = vim.api.nvim_buf_get_lines(buf, 1, -1, false)
  eq(table.concat(vim.fn.readfile(g.file), '\n'), table.concat(lines, '\n'), 'the .dot file')

  -- With a viewer: the daemon's SVG in a file, handed to it (here a stand-in that copies it).
  local seen = TMP .. '/viewed.svg'
  heapd.config.graph_viewer = { 'sh', '-c', 'cp "$1" "$0.part" && mv "$0.part" "$0"', seen }
  vim.cmd('HeapGraph ' .. b)
  wait_for(function()
    return vim.fn.filereadable(seen) == 1
  end, 'the viewer to get the SVG')
  local svg = table.concat(vim.fn.readfile(seen), '\n')
  expect_has(svg, '<svg')
  expect_has(svg, '<title>o' .. a .. '</title>')
  expect_has(svg, '<title>o' .. b .. '&#45;&gt;o' .. a .. '</title>')
  eq(heapd.state.last_graph.format, 'svg', 'last graph format')
  eq(heapd.state.last_graph.id, b, 'last graph id')
  heapd.config.graph_viewer = saved
  for _, id in ipairs({ a, b, dog }) do
    heapcall('unref', { id = id })
  end
end)

test(':HeapWhy shows the paths from the roots, :HeapRetained the biggest retainers', function()
  local a = heapcall('allocate', { type = 'WhyPerson', data = { name = 'Alice' } }).id
  local b = heapcall('allocate', { type = 'WhyPerson', data = { name = 'Bob' } }).id
  heapcall('set', { id = a, fields = { partner = b } })
  heapcall('set', { id = b, fields = { partner = a } })
  heapcall('unref', { id = b })
  heapcall('root.set', { name = 'why-couple', id = a })
  vim.cmd('HeapWhy ' .. b)
  wait_for(function()
    local buf = ui.buffer('why')
    return buf and has(buf_text(buf), 'root why-couple')
  end, 'the why buffer')
  local text = buf_text(ui.buffer('why'))
  expect_has(text, 'heapd why is #' .. b .. ' alive')
  expect_has(text, 'session ' .. SESSION .. ' (distance 1): #' .. a .. ' .partner -> #' .. b)
  expect_has(text, 'root why-couple (distance 1): #' .. a .. ' .partner -> #' .. b)

  vim.cmd('HeapRetained ' .. a)
  wait_for(function()
    local buf = ui.buffer('retained')
    return buf and has(buf_text(buf), 'retains')
  end, 'the retained buffer')
  -- Alice alone keeps Bob alive: 2 objects, both sizes (their data's JSON lengths).
  local bytes = heapcall('get', { id = a }).size + heapcall('get', { id = b }).size
  expect_has(buf_text(ui.buffer('retained')),
    '#' .. a .. ' retains 2 objects, ' .. bytes .. ' bytes; immediate dominator: the roots')
  vim.cmd('HeapRetained')
  wait_for(function()
    return has(buf_text(ui.buffer('retained')), 'biggest retainers')
  end, 'the top retainers')
  local top = buf_text(ui.buffer('retained'))
  check(top:find('#' .. a .. '%s+WhyPerson%s+' .. bytes .. '%s+2%s+%(roots%)') ~= nil, 'alice in the top list:\n' .. top)

  heapcall('root.set', { name = 'why-couple', id = vim.NIL })
  heapcall('unref', { id = a })
  vim.cmd('HeapWhy ' .. a)
  wait_for(function()
    return has(buf_text(ui.buffer('why')), 'not reachable from any root')
  end, 'unreachable')
  heapcall('collect', { generation = 2 })
end)

test('closing the session on exit drops its references', function()
  local x = heapcall('allocate', { type = 'Dropped' }).id
  heapd._on_exit()
  check(not heapd.is_connected(), 'connected after exit')
  -- look from another (anonymous) connection
  local other = rpc.connect(SOCKET, {})
  local err, r = other:request_sync('session.list', nil, 5000)
  check(err == nil, 'session.list: ' .. vim.inspect(err))
  for _, s in ipairs(r.sessions) do
    check(s.name ~= SESSION, 'session still listed: ' .. vim.inspect(s))
  end
  err = other:request_sync('get', { id = x }, 5000)
  check(err and err.code == -32001 and err.data.state == 'freed', 'object still alive: ' .. vim.inspect(err))
  other:close()
end)

out(string.format('nvim: %d passed, %d failed', passed, failed))
if failed > 0 then
  vim.cmd('cquit 1')
else
  vim.cmd('qall!')
end
