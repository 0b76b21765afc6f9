-- heapd.nvim commands. The work is done lazily in lua/heapd/.
if vim.g.loaded_heapd then
  return
end
vim.g.loaded_heapd = true

if vim.fn.has('nvim-0.7') ~= 1 then
  vim.api.nvim_echo({ { 'heapd.nvim needs Neovim 0.7 or later', 'ErrorMsg' } }, true, {})
  return
end

local function heapd()
  return require('heapd')
end

local cmd = vim.api.nvim_create_user_command

cmd('HeapConnect', function(opts)
  heapd().connect(opts.args ~= '' and opts.args or nil)
end, { nargs = '?', complete = 'file', desc = 'heapd: connect to the daemon (default socket: $HEAPD_SOCKET, …)' })

cmd('HeapDisconnect', function()
  heapd().disconnect()
end, { nargs = 0, desc = 'heapd: disconnect (the named session keeps its references)' })

cmd('HeapStats', function()
  heapd().stats()
end, { nargs = 0, desc = 'heapd: heap summary, refreshed live' })

cmd('HeapInspect', function(opts)
  heapd().inspect(opts.args)
end, { nargs = '?', desc = 'heapd: inspect an object (default: the integer under the cursor)' })

cmd('HeapReferrers', function(opts)
  heapd().referrers(opts.args)
end, { nargs = '?', desc = 'heapd: referrer tree of an object (default: the integer under the cursor)' })

cmd('HeapGraph', function(opts)
  heapd().graph(opts.args)
end, { nargs = '?', desc = 'heapd: Graphviz picture around an object (default: the integer under the cursor)' })

cmd('HeapWhy', function(opts)
  heapd().why(opts.args)
end, { nargs = '?', desc = 'heapd: why is it alive: paths from the roots (default: the integer under the cursor)' })

cmd('HeapRetained', function(opts)
  heapd().retained(opts.args ~= '' and opts.args or nil)
end, { nargs = '?', desc = 'heapd: retained sizes: the biggest retainers, or what one object keeps alive' })

cmd('HeapCollect', function(opts)
  heapd().collect(opts.args ~= '' and opts.args or nil)
end, { nargs = '?', complete = function()
  return { '0', '1', '2' }
end, desc = 'heapd: run the cycle collector (generation 0, 1 or 2; default 2)' })

cmd('HeapCall', function(opts)
  local method, rest = opts.args:match('^%s*(%S+)%s*(.-)%s*$')
  heapd().call(method, rest)
end, { nargs = '+', complete = function(arglead, cmdline)
  if cmdline:match('^%s*%S+%s+%S+%s') then
    return {}
  end
  return heapd().complete_method(arglead)
end, desc = 'heapd: call any method: :HeapCall METHOD {json params}' })

cmd('HeapEvents', function()
  heapd().show_events()
end, { nargs = 0, desc = 'heapd: the events received so far' })

local group = vim.api.nvim_create_augroup('heapd', { clear = true })
vim.api.nvim_create_autocmd('VimLeavePre', {
  group = group,
  callback = function()
    if package.loaded['heapd'] then
      require('heapd')._on_exit()
    end
  end,
})
