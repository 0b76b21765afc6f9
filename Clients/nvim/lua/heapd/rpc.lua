-- A JSON-RPC 2.0 connection to heapd over a Unix socket (vim.loop pipe),
-- with LSP base-protocol framing (Content-Length headers).
--
--   local rpc = require('heapd.rpc')
--   local conn = rpc.connect(path, {
--     on_connect = function(err) end,             -- err: nil or a message
--     on_notification = function(method, params) end,
--     on_close = function(reason) end,
--   })
--   conn:request('ping', nil, function(err, result) end)
--   conn:batch({{'get', {id = 1}}, {'get', {id = 2}}}, function(replies) end)
--   conn:close()
--
-- Every callback runs on the main loop (libuv callbacks are wrapped in
-- vim.schedule), in the order the messages arrived; replies to one
-- connection's requests come in order, and the notifications a request
-- caused come before its reply.
local json = require('heapd.json')
local uv = vim.loop

local M = {}

local Connection = {}
Connection.__index = Connection

-- Framing ---------------------------------------------------------------

-- Frame one JSON text.
function M.frame(body)
  return 'Content-Length: ' .. #body .. '\r\n\r\n' .. body
end

-- An incremental parser: feed(chunk) returns a list of complete bodies, or
-- raises on a broken header.
function M.new_parser()
  local buf = ''
  local parser = {}
  function parser.feed(chunk)
    buf = buf .. chunk
    local bodies = {}
    while true do
      local hend = buf:find('\r\n\r\n', 1, true)
      if not hend then
        if #buf > 8192 then
          error('heapd: header block over 8 KiB')
        end
        break
      end
      local header = buf:sub(1, hend - 1)
      local length
      for line in (header .. '\r\n'):gmatch('(.-)\r\n') do
        local name, value = line:match('^([^:]+):%s*(.-)%s*$')
        if not name then
          error('heapd: broken header line: ' .. line)
        end
        if name:lower() == 'content-length' then
          length = tonumber(value)
          if not length then
            error('heapd: bad Content-Length: ' .. value)
          end
        end
      end
      if not length then
        error('heapd: header without Content-Length')
      end
      local body_start = hend + 4
      if #buf < body_start + length - 1 then
        break
      end
      bodies[#bodies + 1] = buf:sub(body_start, body_start + length - 1)
      buf = buf:sub(body_start + length)
    end
    return bodies
  end
  function parser.pending()
    return #buf
  end
  return parser
end

-- Connection ------------------------------------------------------------

local function rpc_error(code, message, data)
  return { code = code, message = message, data = data }
end
M.error = rpc_error

-- Client-side error codes (outside JSON-RPC's ranges).
M.NOT_CONNECTED = -1
M.CONNECTION_CLOSED = -2
M.TIMEOUT = -3

function M.connect(path, handlers)
  handlers = handlers or {}
  local self = setmetatable({
    path = path,
    handlers = handlers,
    next_id = 1,
    pending = {}, -- id -> callback(err, result)
    queue = {}, -- frames written before the connection is up
    state = 'connecting', -- 'connecting' | 'open' | 'closed'
    parser = M.new_parser(),
  }, Connection)
  local pipe, perr = uv.new_pipe(false)
  if not pipe then
    self.state = 'closed'
    vim.schedule(function()
      self:_fail_all('cannot create a pipe: ' .. tostring(perr))
      if handlers.on_connect then
        handlers.on_connect('cannot create a pipe: ' .. tostring(perr))
      end
    end)
    return self
  end
  self.pipe = pipe
  pipe:connect(path, function(err)
    vim.schedule(function()
      if self.state == 'closed' then
        return
      end
      if err then
        self:_shutdown('cannot connect to ' .. path .. ': ' .. err)
        if handlers.on_connect then
          handlers.on_connect(err)
        end
        return
      end
      self.state = 'open'
      pipe:read_start(function(rerr, chunk)
        -- libuv callback: do nothing here but hand the data to the main loop.
        vim.schedule(function()
          if rerr then
            self:_shutdown('read error: ' .. rerr)
          elseif chunk then
            self:_on_data(chunk)
          else
            self:_shutdown('the daemon closed the connection')
          end
        end)
      end)
      local queued = self.queue
      self.queue = {}
      for _, frame in ipairs(queued) do
        self:_write(frame)
      end
      if handlers.on_connect then
        handlers.on_connect(nil)
      end
    end)
  end)
  return self
end

function Connection:is_open()
  return self.state == 'open'
end

function Connection:is_closed()
  return self.state == 'closed'
end

function Connection:_write(frame)
  if self.state == 'connecting' then
    self.queue[#self.queue + 1] = frame
    return true
  end
  if self.state ~= 'open' then
    return false
  end
  local ok, err = pcall(self.pipe.write, self.pipe, frame, function(werr)
    if werr then
      vim.schedule(function()
        self:_shutdown('write error: ' .. werr)
      end)
    end
  end)
  if not ok then
    self:_shutdown('write error: ' .. tostring(err))
    return false
  end
  return true
end

function Connection:_send(message)
  return self:_write(M.frame(json.encode(message)))
end

-- Send a request; callback(err, result) with err a JSON-RPC error object
-- ({code, message, data}) or nil.
function Connection:request(method, params, callback)
  callback = callback or function() end
  if self.state == 'closed' then
    vim.schedule(function()
      callback(rpc_error(M.NOT_CONNECTED, 'not connected to heapd'))
    end)
    return nil
  end
  local id = self.next_id
  self.next_id = id + 1
  self.pending[id] = callback
  local msg = { jsonrpc = '2.0', id = id, method = method }
  if params ~= nil and params ~= vim.NIL then
    msg.params = params
  end
  local ok, err = pcall(json.encode, msg)
  if not ok then
    self.pending[id] = nil
    vim.schedule(function()
      callback(rpc_error(-32602, tostring(err)))
    end)
    return nil
  end
  self:_write(M.frame(err))
  return id
end

-- A JSON-RPC notification (no reply).
function Connection:notify(method, params)
  local msg = { jsonrpc = '2.0', method = method }
  if params ~= nil and params ~= vim.NIL then
    msg.params = params
  end
  return self:_send(msg)
end

-- Several requests in one JSON-RPC batch (one round trip).
-- calls: list of {method, params}; callback(replies) with replies[i] =
-- {err = ..., result = ...} in the order of calls.
function Connection:batch(calls, callback)
  callback = callback or function() end
  local replies, remaining = {}, #calls
  if remaining == 0 then
    vim.schedule(function()
      callback(replies)
    end)
    return
  end
  if self.state == 'closed' then
    vim.schedule(function()
      for i = 1, #calls do
        replies[i] = { err = rpc_error(M.NOT_CONNECTED, 'not connected to heapd') }
      end
      callback(replies)
    end)
    return
  end
  local messages = {}
  for i, call in ipairs(calls) do
    local id = self.next_id
    self.next_id = id + 1
    self.pending[id] = function(err, result)
      replies[i] = { err = err, result = result }
      remaining = remaining - 1
      if remaining == 0 then
        callback(replies)
      end
    end
    local msg = { jsonrpc = '2.0', id = id, method = call[1] }
    if call[2] ~= nil then
      msg.params = call[2]
    end
    messages[i] = msg
  end
  self:_write(M.frame(json.encode(messages)))
end

function Connection:_dispatch(msg)
  if type(msg) ~= 'table' then
    return
  end
  if vim.tbl_islist(msg) and #msg > 0 then
    for _, m in ipairs(msg) do
      self:_dispatch(m)
    end
    return
  end
  local id = msg.id
  if msg.method ~= nil and (id == nil or id == vim.NIL) and msg.result == nil and msg.error == nil then
    if self.handlers.on_notification then
      local ok, err = pcall(self.handlers.on_notification, msg.method, msg.params)
      if not ok then
        vim.notify('heapd: notification handler failed: ' .. tostring(err), vim.log.levels.ERROR)
      end
    end
    return
  end
  if id == nil or id == vim.NIL then
    -- An error the daemon could not tie to a request (parse error, oversize).
    local e = msg.error
    local text = type(e) == 'table' and e.message or vim.inspect(msg)
    vim.notify('heapd: ' .. tostring(text), vim.log.levels.ERROR)
    return
  end
  local cb = self.pending[id]
  if not cb then
    return
  end
  self.pending[id] = nil
  local err = msg.error
  if err == vim.NIL then
    err = nil
  end
  local result = msg.result
  local ok, cerr = pcall(cb, err, result)
  if not ok then
    vim.notify('heapd: callback failed: ' .. tostring(cerr), vim.log.levels.ERROR)
  end
end

function Connection:_on_data(chunk)
  local ok, bodies = pcall(self.parser.feed, chunk)
  if not ok then
    self:_shutdown(tostring(bodies))
    return
  end
  for _, body in ipairs(bodies) do
    local dok, msg = pcall(json.decode, body)
    if dok then
      self:_dispatch(msg)
    else
      vim.notify('heapd: undecodable message from the daemon: ' .. tostring(msg), vim.log.levels.ERROR)
    end
  end
end

function Connection:_fail_all(reason)
  local pending = self.pending
  self.pending = {}
  local ids = vim.tbl_keys(pending)
  table.sort(ids)
  for _, id in ipairs(ids) do
    pcall(pending[id], rpc_error(M.CONNECTION_CLOSED, reason))
  end
end

function Connection:_shutdown(reason)
  if self.state == 'closed' then
    return
  end
  self.state = 'closed'
  self.queue = {}
  if self.pipe then
    pcall(self.pipe.read_stop, self.pipe)
    if not self.pipe:is_closing() then
      self.pipe:close()
    end
  end
  self:_fail_all(reason)
  if self.handlers.on_close then
    pcall(self.handlers.on_close, reason)
  end
end

-- Close the connection (pending requests fail with CONNECTION_CLOSED).
function Connection:close()
  self:_shutdown('closed by the client')
end

-- Wait (processing events) for a request's reply; returns err, result.
function Connection:request_sync(method, params, timeout_ms)
  local done, rerr, rres = false, nil, nil
  self:request(method, params, function(err, result)
    done, rerr, rres = true, err, result
  end)
  local ok = vim.wait(timeout_ms or 5000, function()
    return done
  end, 5)
  if not ok then
    return rpc_error(M.TIMEOUT, method .. ': no reply within ' .. (timeout_ms or 5000) .. ' ms')
  end
  return rerr, rres
end

return M
