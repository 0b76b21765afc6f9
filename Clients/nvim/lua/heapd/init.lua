-- heapd.nvim: inspect and drive a heapd object heap from Neovim.
--
-- The public Lua API (the commands in plugin/heapd.lua call it):
--   require('heapd').setup(opts)
--   require('heapd').connect(socket?, callback?)    -- :HeapConnect
--   require('heapd').disconnect()                    -- :HeapDisconnect
--   require('heapd').request(method, params, cb)     -- cb(err, result)
--   require('heapd').request_sync(method, params, timeout_ms) -> err, result
--   require('heapd').call(method, json_text)         -- :HeapCall
--   require('heapd').stats()                         -- :HeapStats
--   require('heapd').inspect(id?)                    -- :HeapInspect
--   require('heapd').referrers(id?)                  -- :HeapReferrers
--   require('heapd').collect(generation?, cb?)       -- :HeapCollect
--   require('heapd').show_events()                   -- :HeapEvents
--   require('heapd').state                            -- connection, events, last result
local rpc = require('heapd.rpc')
local json = require('heapd.json')

local M = {}

M.defaults = {
  -- Socket path; nil: $HEAPD_SOCKET, else $XDG_RUNTIME_DIR/heapd/heapd.sock,
  -- else /tmp/heapd-$UID/heapd.sock.
  socket = nil,
  -- Named session; nil: 'nvim-' .. getpid(). false: stay anonymous.
  session = nil,
  -- Notification kinds to subscribe to.
  events = { 'gc.stop', 'freed', 'finalize', 'weakref.callback', 'session.closed' },
  -- Close the named session when Neovim exits (its references are dropped):
  -- the default session name holds the pid, so nobody could resume it.
  close_session_on_exit = true,
  -- Connect on demand when a command needs the daemon.
  auto_connect = true,
  -- Events kept in memory (:HeapEvents, the stats buffer).
  max_events = 200,
  -- How scratch buffers are opened when no window shows them yet.
  split = 'botright 16split',
  -- Milliseconds that synchronous helpers wait for a reply.
  timeout = 5000,
  -- :HeapGraph. The viewer of the SVG: a command (string or list; the file is
  -- appended). nil: xdg-open when it is installed, else the DOT text in a
  -- buffer; false: always the DOT text in a buffer.
  graph_viewer = nil,
  graph_depth = 2,
  graph_max_nodes = 200,
}

M.config = vim.deepcopy(M.defaults)

M.state = {
  conn = nil, -- heapd.rpc connection
  socket = nil, -- its path
  ready = false, -- session opened and subscribed
  session = nil, -- the named session's name, once opened
  resumed = nil, -- whether session.open resumed it
  subscribed = {}, -- kinds the daemon confirmed
  waiters = {}, -- functions(conn, err) to run once ready
  events = {}, -- {seq, time, method, params}, newest last
  event_seq = 0,
  freed = {}, -- id -> true for ids seen in `freed` notifications
  freed_count = 0,
  messages = {}, -- the plugin's recent messages, newest last
  last_result = nil, -- result of the last :HeapCall
  last_error = nil, -- error of the last failed request made by a command
  last_graph = nil, -- {id, format, file, nodes, edges, truncated} of the last :HeapGraph
  methods = nil, -- method names from rpc.discover (for :HeapCall completion)
  methods_conn = nil, -- the connection they were fetched on
  listeners = {}, -- functions(method, params)
}

local state = M.state

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  return M
end

-- Messages ----------------------------------------------------------------

function M.message(text, level)
  local hl = nil
  if level == vim.log.levels.ERROR then
    hl = 'ErrorMsg'
  elseif level == vim.log.levels.WARN then
    hl = 'WarningMsg'
  end
  state.messages[#state.messages + 1] = { text = text, level = level or vim.log.levels.INFO }
  if #state.messages > 100 then
    table.remove(state.messages, 1)
  end
  vim.api.nvim_echo({ { text, hl } }, true, {})
end

function M.last_message()
  local m = state.messages[#state.messages]
  return m and m.text or nil
end

local error_names = {
  [-32700] = 'ParseError',
  [-32600] = 'InvalidRequest',
  [-32601] = 'MethodNotFound',
  [-32602] = 'InvalidParams',
  [-32603] = 'InternalError',
  [-32001] = 'NoSuchObject',
  [-32002] = 'ReferenceNotHeld',
  [-32003] = 'QuotaExceeded',
  [-32004] = 'SessionConflict',
  [-32005] = 'RequestTooLarge',
  [-32006] = 'ShuttingDown',
  [-32007] = 'NoSuchSession',
  [-32008] = 'ScopeError',
  [-32009] = 'NoSuchRoot',
  [-32010] = 'TooManyClients',
  [-32014] = 'RendererUnavailable',
  [rpc.NOT_CONNECTED] = 'NotConnected',
  [rpc.CONNECTION_CLOSED] = 'ConnectionClosed',
  [rpc.TIMEOUT] = 'Timeout',
}
M.error_names = error_names

-- A one-line description of a JSON-RPC error object.
function M.format_error(err)
  if type(err) ~= 'table' then
    return tostring(err)
  end
  local data = err.data
  if err.code == -32001 and type(data) == 'table' and data.id then
    if data.state == 'freed' then
      return string.format('object #%d was freed', data.id)
    elseif data.state == 'never-existed' then
      return string.format('object #%d never existed', data.id)
    end
  end
  local name = error_names[err.code]
  local text = tostring(err.message)
  if name then
    text = text .. ' (' .. name .. ' ' .. tostring(err.code) .. ')'
  elseif err.code then
    text = text .. ' (' .. tostring(err.code) .. ')'
  end
  return text
end

-- Socket path -------------------------------------------------------------

local function nonempty(s)
  return s ~= nil and s ~= '' and s ~= vim.NIL
end

function M.default_socket()
  if nonempty(M.config.socket) then
    return vim.fn.expand(M.config.socket)
  end
  if nonempty(vim.g.heapd_socket) then
    return vim.fn.expand(vim.g.heapd_socket)
  end
  local env = vim.env.HEAPD_SOCKET
  if nonempty(env) then
    return env
  end
  local xdg = vim.env.XDG_RUNTIME_DIR
  if nonempty(xdg) then
    return xdg .. '/heapd/heapd.sock'
  end
  return '/tmp/heapd-' .. tostring(vim.loop.getuid()) .. '/heapd.sock'
end

function M.session_name()
  local s = M.config.session
  if s == false then
    return nil
  end
  if nonempty(s) then
    return s
  end
  return 'nvim-' .. tostring(vim.fn.getpid())
end

-- Events ------------------------------------------------------------------

local function ids_text(ids, limit)
  limit = limit or 20
  local parts = {}
  for i, id in ipairs(ids or {}) do
    if i > limit then
      parts[#parts + 1] = string.format('… (%d in all)', #ids)
      break
    end
    parts[#parts + 1] = '#' .. tostring(id)
  end
  return table.concat(parts, ' ')
end
M.ids_text = ids_text

function M.format_event(ev)
  local p = type(ev.params) == 'table' and ev.params or {}
  local text
  if ev.method == 'freed' then
    text = string.format('freed %s', ids_text(p.ids))
    if type(p.ids) == 'table' and #p.ids == 0 then
      text = 'freed (none)'
    end
  elseif ev.method == 'gc.stop' then
    text = string.format(
      'gc.stop generation %s: collected %s, uncollectable %s (%.3f ms)',
      tostring(p.generation),
      tostring(p.collected),
      tostring(p.uncollectable),
      tonumber(p.duration_ms) or 0
    )
  elseif ev.method == 'gc.start' then
    text = string.format('gc.start generation %s', tostring(p.generation))
  elseif ev.method == 'finalize' then
    text = string.format('finalize #%s %s', tostring(p.id), tostring(p.type))
  elseif ev.method == 'weakref.callback' then
    text = string.format('weakref.callback weakref #%s, referent #%s', tostring(p.weakref), tostring(p.referent))
  elseif ev.method == 'session.closed' then
    text = string.format('session.closed %s', tostring(p.name))
  else
    text = ev.method .. ' ' .. json.encode(ev.params)
  end
  return string.format('%s %s', ev.time, text)
end

function M._on_event(method, params)
  state.event_seq = state.event_seq + 1
  local ev = { seq = state.event_seq, time = os.date('%H:%M:%S'), method = method, params = params }
  state.events[#state.events + 1] = ev
  while #state.events > M.config.max_events do
    table.remove(state.events, 1)
  end
  if method == 'freed' and type(params) == 'table' and type(params.ids) == 'table' then
    if state.freed_count > 1000000 then
      state.freed, state.freed_count = {}, 0
    end
    for _, id in ipairs(params.ids) do
      state.freed[id] = true
      state.freed_count = state.freed_count + 1
    end
  elseif method == 'session.closed' and type(params) == 'table' and params.name == state.session
    and not state.exiting and state.closing_session ~= params.name then
    state.session = nil
    M.message('heapd: session ' .. tostring(params.name) .. ' was closed', vim.log.levels.WARN)
  end
  for _, fn in ipairs(state.listeners) do
    local ok, err = pcall(fn, method, params, ev)
    if not ok then
      M.message('heapd: event listener failed: ' .. tostring(err), vim.log.levels.ERROR)
    end
  end
  if state.exiting then
    return
  end
  require('heapd.ui').on_event(method, params, ev)
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'HeapdEvent', modeline = false })
end

-- Subscribe a Lua function to every notification: fn(method, params, event).
function M.on_event(fn)
  table.insert(state.listeners, fn)
  return fn
end

-- Connection --------------------------------------------------------------

local function run_waiters(conn, err)
  local waiters = state.waiters
  state.waiters = {}
  for _, fn in ipairs(waiters) do
    local ok, e = pcall(fn, conn, err)
    if not ok then
      M.message('heapd: ' .. tostring(e), vim.log.levels.ERROR)
    end
  end
end

local function open_session(conn, name, attempt, done)
  conn:request('session.open', { name = name }, function(err, result)
    if err and err.code == -32004 and attempt < 40 and not conn:is_closed() then
      -- Our previous connection may not be gone yet on the daemon's side.
      vim.defer_fn(function()
        open_session(conn, name, attempt + 1, done)
      end, 50)
      return
    end
    done(err, result)
  end)
end

-- Connect (or reconnect) to the daemon; callback(err, info) once the
-- session is open and the subscription made.
function M.connect(socket, callback)
  callback = callback or function() end
  if state.conn then
    local old = state.conn
    old.intentional = true
    state.conn = nil
    old:close()
  end
  local path = nonempty(socket) and vim.fn.expand(socket) or M.default_socket()
  state.socket = path
  state.ready = false
  state.session = nil
  state.resumed = nil
  table.insert(state.waiters, function(_, err)
    if err then
      callback(err)
    else
      callback(nil, { socket = path, session = state.session, resumed = state.resumed, events = state.subscribed })
    end
  end)
  local conn
  conn = rpc.connect(path, {
    on_connect = function(err)
      if err then
        if state.conn == conn then
          state.conn = nil
        end
        -- Suggest starting heapd there only where a socket could be.
        local st = vim.loop.fs_stat(path)
        local hint
        if st and st.type ~= 'socket' then
          hint = 'it is not a socket; set $HEAPD_SOCKET or the socket option to heapd\'s socket'
        elseif tostring(err):find('EACCES') or tostring(err):find('EPERM') then
          hint = 'heapd admits only the user it runs as'
        else
          hint = 'is heapd running? start it with: heapd --socket ' .. path
        end
        local e = rpc.error(rpc.NOT_CONNECTED,
          string.format('cannot connect to %s: %s (%s)', path, tostring(err), hint))
        M.message('heapd: ' .. e.message, vim.log.levels.ERROR)
        run_waiters(nil, e)
        return
      end
      conn.was_open = true
      local function subscribe()
        conn:request('subscribe', { events = M.config.events }, function(serr, sres)
          if serr then
            M.message('heapd: subscribe failed: ' .. M.format_error(serr), vim.log.levels.ERROR)
          else
            state.subscribed = sres and sres.events or {}
          end
          if conn:is_closed() then
            run_waiters(nil, serr or rpc.error(rpc.CONNECTION_CLOSED, 'connection closed'))
            return
          end
          state.ready = true
          local where = state.session and (' (session ' .. state.session .. (state.resumed and ', resumed' or '') .. ')') or ''
          M.message('heapd: connected to ' .. path .. where)
          require('heapd.ui').on_connect()
          run_waiters(conn, nil)
        end)
      end
      local name = M.session_name()
      if not name then
        subscribe()
        return
      end
      open_session(conn, name, 1, function(err2, result)
        if err2 then
          M.message('heapd: session.open ' .. name .. ' failed: ' .. M.format_error(err2)
            .. '; staying in an anonymous session', vim.log.levels.WARN)
        else
          state.session = result.name
          state.resumed = result.resumed
        end
        subscribe()
      end)
    end,
    on_notification = function(method, params)
      M._on_event(method, params)
    end,
    on_close = function(reason)
      -- A connection that never opened is reported by on_connect.
      if state.conn == conn and conn.was_open then
        state.conn = nil
        state.ready = false
        if conn.was_open and not conn.intentional then
          M.message('heapd: disconnected: ' .. tostring(reason), vim.log.levels.WARN)
        end
        require('heapd.ui').on_disconnect(reason)
        if #state.waiters > 0 then
          run_waiters(nil, rpc.error(rpc.CONNECTION_CLOSED, tostring(reason)))
        end
      end
    end,
  })
  state.conn = conn
  return conn
end

function M.disconnect()
  local conn = state.conn
  if not conn then
    M.message('heapd: not connected')
    return
  end
  conn.intentional = true
  state.conn = nil
  state.ready = false
  conn:close()
  require('heapd.ui').on_disconnect('disconnected')
  M.message('heapd: disconnected from ' .. tostring(state.socket) .. (state.session and
    (' (session ' .. state.session .. ' keeps its references)') or ''))
end

function M.is_connected()
  return state.conn ~= nil and state.ready and state.conn:is_open()
end

-- Run fn(conn, err) once connected (connecting first if allowed).
function M.with_connection(fn)
  if state.exiting then
    fn(nil, rpc.error(rpc.NOT_CONNECTED, 'Neovim is exiting'))
    return
  end
  if state.conn and state.ready and state.conn:is_open() then
    fn(state.conn, nil)
    return
  end
  if state.conn and not state.ready and not state.conn:is_closed() then
    table.insert(state.waiters, fn)
    return
  end
  if not M.config.auto_connect then
    fn(nil, rpc.error(rpc.NOT_CONNECTED, 'not connected to heapd (use :HeapConnect)'))
    return
  end
  table.insert(state.waiters, fn)
  M.connect(state.socket)
end

function M.request(method, params, callback)
  callback = callback or function() end
  M.with_connection(function(conn, err)
    if err then
      callback(err)
      return
    end
    conn:request(method, params, callback)
  end)
end

function M.batch(calls, callback)
  M.with_connection(function(conn, err)
    if err then
      local replies = {}
      for i = 1, #calls do
        replies[i] = { err = err }
      end
      callback(replies)
      return
    end
    conn:batch(calls, callback)
  end)
end

function M.request_sync(method, params, timeout_ms)
  local done, rerr, rres = false, nil, nil
  M.request(method, params, function(err, result)
    done, rerr, rres = true, err, result
  end)
  local t = timeout_ms or M.config.timeout
  if not vim.wait(t, function()
    return done
  end, 5) then
    return rpc.error(rpc.TIMEOUT, method .. ': no reply within ' .. t .. ' ms')
  end
  return rerr, rres
end

-- Close the named session (dropping its references) and the connection.
function M.close_session(timeout_ms)
  local conn = state.conn
  if not (conn and state.ready and conn:is_open() and state.session) then
    return nil
  end
  local done, rerr, rres = false, nil, nil
  state.closing_session = state.session
  conn:request('session.close', { name = state.session }, function(err, result)
    done, rerr, rres = true, err, result
  end)
  vim.wait(timeout_ms or 1000, function()
    return done
  end, 5)
  conn.intentional = true
  state.conn = nil
  state.ready = false
  state.session = nil
  state.closing_session = nil
  conn:close()
  require('heapd.ui').on_disconnect('session closed')
  return rerr, rres
end

function M._on_exit()
  state.exiting = true
  if M.config.close_session_on_exit then
    pcall(M.close_session, 1000)
  elseif state.conn then
    state.conn.intentional = true
    state.conn:close()
  end
end

-- Commands ----------------------------------------------------------------

-- The integer under (or after) the cursor in the current buffer, or nil.
function M.id_under_cursor()
  local line = vim.api.nvim_get_current_line()
  local col = vim.api.nvim_win_get_cursor(0)[2] + 1
  local after
  local init = 1
  while true do
    local s, e = line:find('%d+', init)
    if not s then
      break
    end
    if col >= s and col <= e then
      return tonumber(line:sub(s, e))
    end
    if s > col and not after then
      after = tonumber(line:sub(s, e))
    end
    init = e + 1
  end
  return after
end

local function parse_id(arg)
  if arg == nil or arg == '' then
    local id = M.id_under_cursor()
    if not id then
      return nil, 'no object id given and no integer under the cursor'
    end
    return id
  end
  local s = tostring(arg):gsub('^#', '')
  local id = tonumber(s)
  if not id or id < 1 or id ~= math.floor(id) then
    return nil, 'not an object id: ' .. tostring(arg)
  end
  return id
end
M.parse_id = parse_id

function M.inspect(arg)
  local id, err = parse_id(arg)
  if not id then
    M.message('heapd: ' .. err, vim.log.levels.ERROR)
    return
  end
  require('heapd.ui').inspect(id)
end

function M.referrers(arg)
  local id, err = parse_id(arg)
  if not id then
    M.message('heapd: ' .. err, vim.log.levels.ERROR)
    return
  end
  require('heapd.ui').referrers(id)
end

function M.stats()
  require('heapd.ui').stats()
end

-- :HeapGraph [id]: the Graphviz picture around an object (default: the integer
-- under the cursor). With a viewer (config.graph_viewer, else xdg-open) the
-- daemon renders SVG into a temp file that the viewer opens; otherwise (or when
-- the daemon has no Graphviz) the DOT text goes to a temp file and a buffer.
-- opts.buffer: the DOT buffer whatever the viewer.
function M.graph(arg, callback, opts)
  local id, err = parse_id(arg)
  if not id then
    M.message('heapd: ' .. err, vim.log.levels.ERROR)
    return
  end
  local viewer = M.config.graph_viewer
  if viewer == nil and vim.fn.executable('xdg-open') == 1 then
    viewer = 'xdg-open'
  end
  if opts and opts.buffer then
    viewer = false
  end
  local function params(format)
    return { id = id, depth = M.config.graph_depth, max_nodes = M.config.graph_max_nodes, format = format }
  end
  local function done(e, r)
    if e then
      state.last_error = e
      M.message('heapd: graph #' .. id .. ' failed: ' .. M.format_error(e), vim.log.levels.ERROR)
    end
    if callback then
      callback(e, r)
    end
  end
  local function save(r, suffix)
    local file = vim.fn.tempname() .. suffix
    vim.fn.writefile(vim.split(r.text, '\n', { plain = true }), file, 'b')
    state.last_graph = {
      id = id, format = r.format, file = file, nodes = r.nodes, edges = r.edges, truncated = r.truncated,
    }
    return file
  end
  local function show_dot()
    M.request('graph', params('dot'), function(e, r)
      if not e then
        require('heapd.ui').graph(id, r, save(r, '.dot'))
      end
      done(e, r)
    end)
  end
  if not viewer then
    show_dot()
    return
  end
  M.request('graph', params('svg'), function(e, r)
    if e and e.code == -32014 then
      M.message('heapd: ' .. tostring(e.message) .. ' (showing the DOT text)', vim.log.levels.WARN)
      show_dot()
      return
    end
    if not e then
      local file = save(r, '.svg')
      local cmd = type(viewer) == 'table' and vim.deepcopy(viewer) or { viewer }
      table.insert(cmd, file)
      vim.fn.jobstart(cmd, { detach = true })
      M.message(string.format('heapd: graph of #%d: %d nodes, %d edges%s: %s', id, r.nodes, r.edges,
        r.truncated and ' (truncated)' or '', file))
    end
    done(e, r)
  end)
end

-- :HeapWhy [id]: why is it alive: the shortest field paths from the roots that hold
-- it (up to config.why_limit holders), or that only a cycle keeps it.
function M.why(arg, callback)
  local id, err = parse_id(arg)
  if not id then
    M.message('heapd: ' .. err, vim.log.levels.ERROR)
    return
  end
  M.request('path', { id = id, limit = M.config.why_limit or 5 }, function(e, r)
    if e then
      state.last_error = e
      M.message('heapd: why #' .. id .. ' failed: ' .. M.format_error(e), vim.log.levels.ERROR)
    else
      require('heapd.ui').why(id, r)
    end
    if callback then
      callback(e, r)
    end
  end)
end

-- :HeapRetained [id]: retained sizes (the dominator tree): what the object alone keeps
-- alive, or without an id (and no integer under the cursor) the heap's biggest retainers.
function M.retained(arg, callback)
  local id
  if arg ~= nil and vim.trim(tostring(arg)) ~= '' then
    local err
    id, err = parse_id(arg)
    if not id then
      M.message('heapd: ' .. err, vim.log.levels.ERROR)
      return
    end
  end
  local params = { limit = M.config.retained_limit or 20 }
  if id then
    params.id = id
  end
  M.request('dominators', params, function(e, r)
    if e then
      state.last_error = e
      M.message('heapd: retained failed: ' .. M.format_error(e), vim.log.levels.ERROR)
    else
      require('heapd.ui').retained(id, r)
    end
    if callback then
      callback(e, r)
    end
  end)
end

function M.show_events()
  require('heapd.ui').events()
end

function M.collect(generation, callback)
  local params = nil
  if generation ~= nil and generation ~= '' then
    local g = tonumber(generation)
    if g == nil or (g ~= 0 and g ~= 1 and g ~= 2) then
      M.message('heapd: generation must be 0, 1 or 2, got ' .. tostring(generation), vim.log.levels.ERROR)
      return
    end
    params = { generation = g }
  end
  M.request('collect', params, function(err, r)
    if err then
      state.last_error = err
      M.message('heapd: collect failed: ' .. M.format_error(err), vim.log.levels.ERROR)
    else
      M.message(string.format(
        'heapd: collect(%s): %s unreachable, %s collected, %s uncollectable in %.3f ms',
        tostring(r.generation),
        tostring(r.unreachable),
        tostring(r.collected),
        tostring(r.uncollectable),
        tonumber(r.duration_ms) or 0
      ))
    end
    if callback then
      callback(err, r)
    end
  end)
end

-- :HeapCall METHOD [JSON]
function M.call(method, params_text, callback)
  if not nonempty(method) then
    M.message('heapd: usage: :HeapCall METHOD [JSON params]', vim.log.levels.ERROR)
    return
  end
  local params = nil
  if nonempty(params_text) and not params_text:match('^%s*$') then
    local ok, decoded = pcall(json.decode, params_text)
    if not ok then
      M.message('heapd: :HeapCall ' .. method .. ': params are not valid JSON: ' .. tostring(decoded),
        vim.log.levels.ERROR)
      return
    end
    params = decoded
  end
  M.request(method, params, function(err, result)
    if err then
      state.last_error = err
      M.message('heapd: ' .. method .. ' failed: ' .. M.format_error(err), vim.log.levels.ERROR)
    else
      state.last_result = result
      require('heapd.ui').show_result(method, result)
    end
    if callback then
      callback(err, result)
    end
  end)
end

-- Completion for :HeapCall: the daemon's own method list (rpc.discover), so
-- it never offers a method this daemon lacks. Fetched once per connection,
-- on the first completion; none while not connected (completion must not
-- open a connection, nor block on a daemon that is not there).
function M.method_names(timeout_ms)
  local conn = state.conn
  if not M.is_connected() then
    return nil
  end
  if state.methods_conn == conn and state.methods then
    return state.methods
  end
  local err, doc = conn:request_sync('rpc.discover', nil, timeout_ms or 2000)
  if err or type(doc) ~= 'table' or type(doc.methods) ~= 'table' then
    return nil
  end
  local names = {}
  for _, m in ipairs(doc.methods) do
    if type(m) == 'table' and type(m.name) == 'string' then
      names[#names + 1] = m.name
    end
  end
  table.sort(names)
  state.methods, state.methods_conn = names, conn
  return names
end

function M.complete_method(arglead)
  local out = {}
  for _, m in ipairs(M.method_names() or {}) do
    if m:sub(1, #arglead) == arglead then
      out[#out + 1] = m
    end
  end
  return out
end

return M
