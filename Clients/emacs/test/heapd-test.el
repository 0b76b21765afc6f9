;;; heapd-test.el --- ERT tests for heapd.el against a real daemon  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by test/run.sh, which starts heapd on a temporary socket and
;; exports HEAPD_SOCKET.  By hand:
;;   HEAPD_SOCKET=/path/heapd.sock emacs --batch -Q -L Clients/emacs \
;;     -l Clients/emacs/test/heapd-test.el -f ert-run-tests-batch-and-exit

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'heapd)

(defconst heapd-test-timeout 5.0
  "Seconds the tests wait for a notification or a refresh.")

(defun heapd-test--wait-for (pred &optional timeout)
  "Process output until PRED returns non-nil or TIMEOUT seconds pass.
Return PRED's last value."
  (let ((deadline (+ (float-time) (or timeout heapd-test-timeout)))
        value)
    (while (and (not (setq value (funcall pred)))
                (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun heapd-test--all-threads-stopped-p (pid)
  "Non-nil when every thread of process PID is in job-control stop.
kill(2) returns before the signal takes effect: a thread still running
could answer one more request."
  (let ((tasks (directory-files (format "/proc/%d/task" pid) t "\\`[0-9]+\\'")))
    (and tasks
         (cl-every
          (lambda (task)
            (with-temp-buffer
              (insert-file-contents (expand-file-name "stat" task))
              ;; The state follows the parenthesised command name, which may hold spaces.
              (goto-char (point-max))
              (search-backward ")")
              (looking-at ") \\([A-Za-z]\\)")
              (member (match-string 1) '("T" "t"))))
          tasks))))

(defun heapd-test--connect ()
  "Connect (once) to the daemon named by HEAPD_SOCKET."
  (unless (getenv "HEAPD_SOCKET")
    (error "HEAPD_SOCKET is not set; run test/run.sh"))
  (heapd-connect))

(defun heapd-test--text (buffer)
  "BUFFER's text without properties."
  (with-current-buffer buffer
    (buffer-substring-no-properties (point-min) (point-max))))

(defun heapd-test--messages-since (pos)
  "Text logged to *Messages* after position POS."
  (with-current-buffer (messages-buffer)
    (buffer-substring-no-properties (min pos (point-max)) (point-max))))

(defun heapd-test--messages-end ()
  "Current end of *Messages*."
  (with-current-buffer (messages-buffer) (point-max)))

(defun heapd-test--button-for (buffer id &optional after)
  "Position of the first button for object ID in BUFFER after regexp AFTER."
  (with-current-buffer buffer
    (save-excursion
      (goto-char (point-min))
      (when after (re-search-forward after))
      (let (found)
        (while (and (not found) (forward-button 1 nil nil t))
          (when (eql (get-char-property (point) 'heapd-id) id)
            (setq found (point))))
        found))))

(defun heapd-test--event-index (pred)
  "Index (oldest first) of the first event log entry satisfying PRED."
  (cl-position-if pred (heapd-events)))

;;;; Tests

(ert-deftest heapd-test-connect-and-session ()
  "`heapd-connect' opens the named session emacs-<pid> and subscribes."
  (let ((conn (heapd-test--connect)))
    (should (heapd-connected-p))
    (should (equal (heapd-connection-socket conn)
                   (expand-file-name (getenv "HEAPD_SOCKET"))))
    (should (equal (heapd-connection-session conn) (format "emacs-%d" (emacs-pid))))
    ;; Connecting again reuses the connection.
    (should (eq (heapd-connect) conn))
    (let* ((sessions (plist-get (heapd-request "session.list") :sessions))
           (mine (seq-find (lambda (s) (equal (plist-get s :name)
                                              (format "emacs-%d" (emacs-pid))))
                           sessions)))
      (should mine)
      (should (eq (plist-get mine :connected) t)))
    ;; Subscribing again with nothing new reports the current set.
    (should (equal (sort (append (plist-get (heapd-request "subscribe"
                                                           (list :events []))
                                            :events)
                                 nil)
                         #'string<)
                   '("finalize" "freed" "gc.stop")))
    (should (equal (heapd-request "ping") '(:pong t)))))

(ert-deftest heapd-test-default-socket ()
  "The default socket follows HEAPD_SOCKET, XDG_RUNTIME_DIR, then /tmp."
  (let ((process-environment (copy-sequence process-environment)))
    (setenv "HEAPD_SOCKET" "/x/y.sock")
    (should (equal (heapd-default-socket) "/x/y.sock"))
    (setenv "HEAPD_SOCKET" nil)
    (setenv "XDG_RUNTIME_DIR" "/run/user/7")
    (should (equal (heapd-default-socket) "/run/user/7/heapd/heapd.sock"))
    (setenv "XDG_RUNTIME_DIR" nil)
    (should (equal (heapd-default-socket)
                   (format "/tmp/heapd-%d/heapd.sock" (user-uid))))
    (let ((heapd-socket "/custom.sock"))
      (should (equal (heapd-socket-path) "/custom.sock")))))

(ert-deftest heapd-test-person-cycle ()
  "The classic Person partner cycle: refcounts, del, gc.collect, events."
  (heapd-test--connect)
  (heapd-collect)                       ; start from a heap without garbage
  (heapd-clear-event-log)
  (let* ((alice (heapd-allocate "Person" :data '(:name "Alice")))
         (bob (heapd-allocate "Person" :data '(:name "Bob") :finalizer t))
         (session (format "emacs-%d" (emacs-pid))))
    (heapd-set alice :fields `(("partner" . ,bob)))
    (heapd-set bob :fields `(("partner" . ,alice)))
    ;; bob: held by this session and by alice.partner.
    (let ((text (heapd-test--text (heapd-inspect bob))))
      (message "--- heapd-inspect ---\n%s--- heapd-inspect ---" text)
      (should (string-match-p (format "\\`Person #%d\n" bob) text))
      (should (string-match-p "^refcount +2 +(sys.getrefcount: 3)$" text))
      (should (string-match-p (format "^  field +\\.partner of #%d Person {\"name\":\"Alice\"}$"
                                      alice)
                              text))
      (should (string-match-p (format "^  session +%s (session [0-9]+): 1 reference$"
                                      (regexp-quote session))
                              text))
      (should (string-match-p "^finalizer +yes +(finalized: no)$" text))
      (should (string-match-p (format "^  partner +#%d Person" alice) text))
      (should (string-match-p (format "^referrers +#%d$" alice) text)))
    ;; alice: held by this session and by bob.partner.
    (let ((text (heapd-test--text (heapd-inspect alice))))
      (should (string-match-p "^refcount +2 " text))
      (should (string-match-p (format "^  field +\\.partner of #%d Person" bob) text))
      (should (string-match-p "^finalizer +no " text)))
    ;; del alice; del bob: the cycle keeps both alive.
    (should (equal (plist-get (heapd-unref alice) :refcount) 1))
    (should (equal (plist-get (heapd-unref bob) :refcount) 1))
    (let ((text (heapd-test--text (heapd-inspect bob))))
      (should (string-match-p "^refcount +1 +(sys.getrefcount: 2)$" text))
      (should-not (string-match-p "^  session " text)))
    (should-not (heapd-events "freed"))
    ;; gc.collect() finds both, runs bob's finalizer, frees them.
    (let ((r (heapd-collect)))
      (should (equal (plist-get r :collected) 2))
      (should (equal (plist-get r :unreachable) 2))
      (should (equal (plist-get r :uncollectable) 0)))
    (should (heapd-test--wait-for
             (lambda () (heapd-events "gc.stop"))))
    (let ((finalize (heapd-events "finalize"))
          (freed (cl-mapcan (lambda (e) (append (plist-get (plist-get e :params) :ids) nil))
                            (heapd-events "freed")))
          (stop (car (heapd-events "gc.stop"))))
      (should (equal (mapcar (lambda (e) (let ((p (plist-get e :params)))
                                           (list :id (plist-get p :id) :type (plist-get p :type))))
                             finalize)
                     `((:id ,bob :type "Person"))))
      ;; Each event names its cause: here the collect request.
      (should (equal (plist-get (plist-get (plist-get (car finalize) :params) :cause) :method) "collect"))
      (should (equal (sort freed #'<) (sort (list alice bob) #'<)))
      (should (equal (plist-get (plist-get stop :params) :collected) 2))
      ;; In a collection: finalize, then freed, then gc.stop.
      (should (< (heapd-test--event-index (lambda (e) (equal (plist-get e :event) "finalize")))
                 (heapd-test--event-index (lambda (e) (equal (plist-get e :event) "freed")))
                 (heapd-test--event-index (lambda (e) (equal (plist-get e :event) "gc.stop"))))))
    ;; Both are gone now.
    (should (string-match-p (format "\\`Object #%d: was freed" bob)
                            (heapd-test--text (heapd-inspect bob))))))

(ert-deftest heapd-test-inspect-navigation ()
  "RET on a field's id in the inspect buffer inspects its target; l goes back."
  (heapd-test--connect)
  (let* ((child (heapd-allocate "Leaf" :data '(:n 1)))
         (parent (heapd-allocate "Node" :fields `(("child" . ,child)))))
    (unwind-protect
        (let ((buf (heapd-inspect parent)))
          (should (string-match-p (format "\\`Node #%d\n" parent) (heapd-test--text buf)))
          (with-current-buffer buf
            (should (derived-mode-p 'heapd-inspect-mode))
            (let ((pos (heapd-test--button-for buf child "^Fields")))
              (should pos)
              (goto-char pos)
              (should (eql (heapd--id-at-point) child))
              (let ((cmd (key-binding (kbd "RET") nil nil pos)))
                (should (eq cmd 'push-button))
                (call-interactively cmd))))
          (let ((text (heapd-test--text buf)))
            (should (string-match-p (format "\\`Leaf #%d\n" child) text))
            ;; The child is held by this session and by parent.child.
            (should (string-match-p "^refcount +2 " text))
            (should (string-match-p (format "^  field +\\.child of #%d Node$" parent) text)))
          ;; Back to the parent, then to the child through its referrer button.
          (with-current-buffer buf
            (call-interactively (key-binding "l"))
            (should (eql heapd-inspect--id parent))
            (should (string-match-p (format "\\`Node #%d\n" parent) (heapd-test--text buf)))))
      (heapd-unref parent)
      (heapd-unref child))))

(ert-deftest heapd-test-referrers ()
  "`heapd-referrers' shows fields, sessions and roots holding an object."
  (heapd-test--connect)
  (let* ((target (heapd-allocate "Target"))
         (a (heapd-allocate "Holder" :fields `(("left" . ,target))))
         (b (heapd-allocate "Holder" :fields `(("right" . ,target)))))
    (unwind-protect
        (progn
          (heapd-root-set "emacs-test-root" a)
          (should (equal (sort (heapd-referrers-of target) #'<) (sort (list a b) #'<)))
          (let* ((buf (heapd-referrers target))
                 (text (heapd-test--text buf)))
            (should (string-match-p (format "^#%d Target, refcount 3$" target) text))
            (should (string-match-p (format "^  <- #%d \\.left  Holder, refcount 2$" a) text))
            (should (string-match-p (format "^  <- #%d \\.right  Holder, refcount 1$" b) text))
            (should (string-match-p "^     <- root emacs-test-root$" text))
            (should (string-match-p (format "^  <- session emacs-%d: 1 reference$" (emacs-pid))
                                    text))
            ;; Its ids are buttons too.
            (should (heapd-test--button-for buf a))))
      (heapd-root-set "emacs-test-root" nil)
      (heapd-unref a)
      (heapd-unref b)
      (heapd-unref target))))

(ert-deftest heapd-test-graph ()
  "`heapd-graph' draws the object at point: DOT in a buffer, SVG for a viewer."
  (heapd-test--connect)
  (let* ((dog (heapd-allocate "GraphDog"))
         (alice (heapd-allocate "GraphPerson" :fields `(("pet" . ,dog))))
         (bob (heapd-allocate "GraphPerson" :finalizer t :fields `(("partner" . ,alice))))
         (seen (expand-file-name "viewed.svg" (file-name-directory (getenv "HEAPD_SOCKET")))))
    (unwind-protect
        (progn
          (heapd-set-field alice "partner" bob)
          ;; The DOT text, from the id at point.
          (let ((heapd-graph-viewer 'buffer))
            (with-temp-buffer
              (insert (format "alice is %d" alice))
              (backward-char 1)
              ;; The prompt's default is the id at point; accept it as RET would.
              (let* ((buf (cl-letf (((symbol-function 'read-number) (lambda (_prompt default) default)))
                            (call-interactively #'heapd-graph)))
                     (text (heapd-test--text buf)))
                (should (string-prefix-p (format "// heapd graph #%d: " alice) text))
                (should (string-match-p "^digraph heap {$" text))
                (should (string-match-p (format "^  o%d -> o%d \\[label=\"partner\"" alice bob) text))
                (should (string-match-p (format "^  o%d -> o%d \\[label=\"partner\"" bob alice) text))
                (should (string-match-p (format "^  o%d -> o%d \\[label=\"pet\"\\]" alice dog) text))
                (should (string-match-p
                         (regexp-quote (format "label=\"GraphPerson\\nid %d  refcount 2\\nhas __del__\"" bob))
                         text))
                ;; The temp file holds the DOT text the buffer shows after its comment line.
                (should (equal (plist-get heapd-graph-last :id) alice))
                (should (equal (with-temp-buffer
                                 (insert-file-contents (plist-get heapd-graph-last :file))
                                 (buffer-string))
                               (with-current-buffer buf
                                 (goto-char (point-min))
                                 (forward-line 1)
                                 (buffer-substring-no-properties (point) (point-max))))))))
          ;; The SVG, handed to a viewer (a stand-in that copies it).
          (when (file-exists-p seen) (delete-file seen))
          (let* ((heapd-graph-viewer
                  (list "sh" "-c" "cp \"$1\" \"$0.part\" && mv \"$0.part\" \"$0\"" seen))
                 (file (heapd-graph bob)))
            (should (string-suffix-p ".svg" file))
            (should (heapd-test--wait-for (lambda () (file-exists-p seen))))
            (let ((svg (with-temp-buffer (insert-file-contents seen) (buffer-string))))
              (should (string-match-p "<svg" svg))
              (should (string-match-p (format "<title>o%d</title>" alice) svg))
              (should (string-match-p (format "<title>o%d&#45;&gt;o%d</title>" bob alice) svg)))
            (should (equal (plist-get heapd-graph-last :format) "svg")))
          ;; No such object: a clear error.
          (should-error (heapd-graph 999999) :type 'user-error))
      (heapd-unref bob)
      (heapd-unref alice)
      (heapd-unref dog))))

(ert-deftest heapd-test-why-and-retained ()
  "`heapd-why' shows the paths from the roots, `heapd-retained' the retainers."
  (heapd-test--connect)
  (let* ((bob (heapd-allocate "WhyPerson"))
         (alice (heapd-allocate "WhyPerson" :fields `(("partner" . ,bob)))))
    (unwind-protect
        (progn
          (heapd-set-field bob "partner" alice)      ; a cycle: dropped, it stays until collected
          (heapd-unref bob)
          (heapd-root-set "emacs-why" alice)
          (let ((text (heapd-test--text (heapd-why bob))))
            (should (string-match-p (format "^Why is #%d alive$" bob) text))
            (should (string-match-p (format "^session emacs-%d (distance 1): #%d \\.partner -> #%d$"
                                            (emacs-pid) alice bob)
                                    text))
            (should (string-match-p (format "^root emacs-why (distance 1): #%d \\.partner -> #%d$" alice bob)
                                    text)))
          (let ((text (heapd-test--text (heapd-retained alice))))
            (should (string-match-p
                     (format "^#%d retains 2 objects, 0 bytes; immediate dominator: the roots$" alice) text)))
          (let ((text (heapd-test--text (heapd-retained))))
            (should (string-match-p (format "#%d  WhyPerson +0 +2  (roots)$" alice) text))
            (should (heapd-test--button-for (get-buffer "*heapd retained*") alice)))
          (heapd-root-set "emacs-why" nil)
          (heapd-unref alice)
          (should (string-match-p "not reachable from any root"
                                  (heapd-test--text (heapd-why alice))))
          (heapd-request "collect" (heapd--obj "generation" 2)))
      (ignore-errors (heapd-root-set "emacs-why" nil)))))

(ert-deftest heapd-test-stats-live ()
  "`heapd-stats' shows the summary and refreshes on freed/gc.stop events."
  (heapd-test--connect)
  (heapd-collect)
  (let* ((buf (heapd-stats))
         (stats (heapd-fetch-stats))
         (text (heapd-test--text buf)))
    (should (string-match-p (format "^objects +%d$" (plist-get stats :objects)) text))
    (should (string-match-p "^Generation +objects +count/threshold" text))
    (should (string-match-p "^0 +[0-9]+ +[0-9]+/700 " text))
    (should (string-match-p "^persistence +memory$" text))
    (let* ((before (plist-get (heapd-fetch-stats) :objects))
           (x (heapd-allocate "StatsCycle"))
           (y (heapd-allocate "StatsCycle" :fields `(("peer" . ,x)))))
      (heapd-set x :fields `(("peer" . ,y)))
      (heapd-stats)                     ; shows the two new objects
      (should (string-match-p "^  StatsCycle +2 objects" (heapd-test--text buf)))
      (heapd-unref x)
      (heapd-unref y)
      (heapd-collect)
      ;; The buffer refreshes itself from the gc.stop and freed events.
      (should (heapd-test--wait-for
               (lambda ()
                 (let ((text (heapd-test--text buf)))
                   (and (string-match-p (format "^objects +%d$" before) text)
                        (not (string-match-p "StatsCycle" text))
                        (string-match-p "^Last collection: generation 2, collected 2," text)
                        (string-match-p (format "freed +ids [0-9 ]*\\b%d\\b" x) text))))))
      (message "--- heapd-stats ---\n%s--- heapd-stats ---" (heapd-test--text buf)))))

(ert-deftest heapd-test-inspect-freed-and-missing ()
  "Inspecting a dead or unknown id shows a clear message, no error."
  (heapd-test--connect)
  (let ((id (heapd-allocate "Ephemeral"))
        (mark (heapd-test--messages-end)))
    (should (equal (plist-get (heapd-unref id) :freed) (vector id)))
    (let ((buf (heapd-inspect id)))
      (should (bufferp buf))
      (should (string-match-p (format "\\`Object #%d: was freed\n" id) (heapd-test--text buf)))
      (should (string-match-p "heapd error -32001" (heapd-test--text buf))))
    (should (string-match-p (format "heapd: object %d was freed \\[-32001\\]" id)
                            (heapd-test--messages-since mark)))
    (should (string-match-p "\\`Object #9007199254740991: never existed"
                            (heapd-test--text (heapd-inspect 9007199254740991))))
    (should (string-match-p "was freed"
                            (heapd-test--text (heapd-referrers id))))
    ;; The Lisp API signals a structured heapd-error.
    (let ((err (should-error (heapd-unref id) :type 'heapd-error)))
      (should (equal (heapd-error-code err) -32001))
      (should (equal (plist-get (heapd-error-data err) :state) "freed")))
    ;; The connection is still fine.
    (should (heapd-connected-p))
    (should (equal (heapd-request "ping") '(:pong t)))))

(ert-deftest heapd-test-call ()
  "`heapd-call' sends any method with JSON params and shows the result."
  (heapd-test--connect)
  (should (equal (heapd-call "ping" "") '(:pong t)))
  (should (string-match-p "\"pong\": true" (heapd-test--text heapd--result-buffer-name)))
  ;; Integers, null, false and non-ASCII text survive the round trip.
  (let* ((id (plist-get (heapd-call "allocate"
                                    "{\"type\": \"Blob\", \"data\": {\"big\": 9007199254740991, \"none\": null, \"no\": false, \"name\": \"Zoë\", \"list\": [1, 2.5, null]}}")
                        :id))
         (got (heapd-call "get" (format "{\"id\": %d}" id)))
         (data (plist-get got :data)))
    (should (integerp id))
    (should (equal (plist-get data :big) 9007199254740991))
    (should (null (plist-get data :none)))
    (should (plist-member data :none))
    (should (eq (plist-get data :no) :json-false))
    (should (equal (plist-get data :name) "Zoë"))
    (should (equal (plist-get data :list) [1 2.5 nil]))
    (let ((text (heapd-test--text heapd--result-buffer-name)))
      (should (string-match-p "\"big\": 9007199254740991" text))
      (should (string-match-p "\"none\": null" text))
      (should (string-match-p "\"no\": false" text))
      (should (string-match-p "\"name\": \"Zoë\"" text)))
    ;; A field set to null through heapd-set deletes it.
    (let ((other (heapd-allocate "Blob")))
      (heapd-set id :fields `(("ref" . ,other)))
      (should (equal (plist-get (heapd-get id) :fields) `(:ref ,other)))
      (heapd-set id :fields '(("ref")))
      (should (null (plist-get (heapd-get id) :fields)))
      (heapd-unref other))
    (heapd-unref id))
  ;; Errors are shown, not signalled.
  (should (null (heapd-call "no.such.method" "{}")))
  (should (string-match-p "^// error -32601: " (heapd-test--text heapd--result-buffer-name)))
  (should (null (heapd-call "inspect" "{\"id\": \"x\"}")))
  (should (string-match-p "^// error -32602: params.id" (heapd-test--text heapd--result-buffer-name)))
  (should-error (heapd-call "ping" "{not json") :type 'user-error))

(ert-deftest heapd-test-id-at-point ()
  "The id prompt defaults to the number at point."
  (with-temp-buffer
    (insert "see object 42 here")
    (goto-char 13)
    (should (eql (heapd--id-at-point) 42))
    (goto-char 2)
    (should (null (heapd--id-at-point)))))

;;;; Method completion, connection errors, leaving Emacs

(defun heapd-test--socat (method &optional params-json)
  "Call METHOD with PARAMS-JSON on a connection of its own, through socat.
Independent of heapd.el and jsonrpc.el; return the reply as a plist."
  (with-temp-buffer
    (insert (format "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":%S%s}\n" method
                    (if params-json (concat ",\"params\":" params-json) "")))
    (let ((rc (call-process-region (point-min) (point-max) "socat" t t nil
                                   "-t" "5" "-" (concat "UNIX-CONNECT:" (getenv "HEAPD_SOCKET")))))
      (unless (eql rc 0) (error "socat exited %s: %s" rc (buffer-string))))
    (json-parse-string (buffer-string) :object-type 'plist :array-type 'list
                       :null-object nil :false-object :json-false)))

(defun heapd-test--session-info (name)
  "The daemon's session.list entry for NAME (through socat), or nil."
  (seq-find (lambda (s) (equal (plist-get s :name) name))
            (plist-get (plist-get (heapd-test--socat "session.list") :result) :sessions)))

(defun heapd-test--child-emacs (&rest forms)
  "Run FORMS in a new `emacs --batch' with heapd loaded; return its stdout.
The child inherits HEAPD_SOCKET and exits normally (running `kill-emacs-hook')."
  (with-temp-buffer
    (let ((rc (call-process (expand-file-name invocation-name invocation-directory)
                            nil '(t nil) nil "--batch" "-Q" "-L"
                            (file-name-directory (locate-library "heapd"))
                            "--eval" (format "%S" `(progn (require 'heapd) ,@forms)))))
      (should (eql rc 0))
      (buffer-string))))

(ert-deftest heapd-test-method-completion ()
  "`heapd-call' completes exactly the daemon's rpc.discover names, once per connection."
  (let* ((doc (plist-get (heapd-test--socat "rpc.discover") :result))
         (expected (sort (mapcar (lambda (m) (plist-get m :name)) (plist-get doc :methods))
                         #'string<))
         (conn (heapd-test--connect))
         offered)
    (should (> (length expected) 20))
    (setq heapd--methods-cache nil)
    ;; The completion table `heapd-call' hands to `completing-read'.
    (let ((completing-read-function
           (lambda (_prompt collection &rest _)
             (setq offered (all-completions "" collection))
             "ping")))
      (cl-letf (((symbol-function 'read-string) (lambda (&rest _) "{}")))
        (should (equal (call-interactively #'heapd-call) '(:pong t)))))
    (should (equal (sort offered #'string<) expected))
    (should-not (all-completions "no.such" offered))
    ;; The old hard-coded lists offered these though the daemon has none.
    (dolist (m '("path" "cycles" "dominators" "histogram" "snapshot.save" "snapshot.diff" "graph"))
      (unless (member m expected)
        (should-not (member m offered))))
    ;; Fetched once for this connection: the same list again, no new request.
    (should (eq (car heapd--methods-cache) conn))
    (let ((first (heapd--method-names)))
      (cl-letf (((symbol-function 'heapd-request)
                 (lambda (&rest _) (error "rpc.discover fetched again"))))
        (should (eq (heapd--method-names) first))))
    ;; No daemon to reach: no names, no error.
    (heapd-disconnect)
    (let ((heapd-socket (make-temp-name "/tmp/heapd-test-none-")))
      (should (null (heapd--method-names))))
    ;; A new connection fetches again.
    (let ((again (heapd-test--connect)))
      (should-not (eq again conn))
      (should (equal (heapd--method-names) expected))
      (should (eq (car heapd--methods-cache) again)))))

(ert-deftest heapd-test-connect-errors-readable ()
  "Connection failures say what is wrong in words, not as a process plist."
  (let* ((dir (make-temp-file "heapd-test-" t))
         (missing (expand-file-name "none.sock" dir))
         (plain (expand-file-name "plain-file" dir)))
    (unwind-protect
        (progn
          (heapd-disconnect)
          (write-region "" nil plain)
          (let ((err (should-error (heapd-connect missing) :type 'user-error)))
            (should (equal (cadr err)
                           (format "heapd: cannot connect to %s: No such file or directory; \
is heapd running?  Start it with: heapd --socket %s &" missing missing))))
          (let ((msg (cadr (should-error (heapd-connect plain) :type 'user-error))))
            (should (string-match-p (format "\\`heapd: cannot connect to %s: " (regexp-quote plain)) msg))
            (should (string-match-p "it is not a socket" msg))
            ;; Starting heapd on a path that is not a socket is no advice.
            (should-not (string-match-p "Start it" msg))
            (should-not (string-match-p ":family\\|:service\\|:name" msg)))
          (should-not (heapd-connected-p)))
      (delete-directory dir t)
      (heapd-test--connect))))

(ert-deftest heapd-test-session-closed-on-exit ()
  "An Emacs that exits closes its emacs-<pid> session: the daemon drops its references."
  (let* ((out (heapd-test--child-emacs
               '(heapd-connect)
               '(princ (format "%d %d\n" (emacs-pid) (heapd-allocate "ExitTest")))))
         (pid (string-to-number (car (split-string out))))
         (id (string-to-number (cadr (split-string out)))))
    (should (> pid 0))
    (should (> id 0))
    (should-not (heapd-test--session-info (format "emacs-%d" pid)))
    (let ((err (plist-get (heapd-test--socat "get" (format "{\"id\":%d}" id)) :error)))
      (should (equal (plist-get err :code) -32001))
      (should (equal (plist-get (plist-get err :data) :state) "freed")))))

(ert-deftest heapd-test-session-kept-or-leased-on-exit ()
  "Without closing on exit the session stays (what the exit test rules out);
with `heapd-session-lease' the daemon still ends it once the lease runs out."
  (let* ((out (heapd-test--child-emacs
               '(setq heapd-close-session-on-exit nil)
               '(heapd-connect)
               '(heapd-allocate "Kept")
               '(princ (format "%d\n" (emacs-pid)))))
         (name (format "emacs-%d" (string-to-number out)))
         (info (heapd-test--session-info name)))
    (should info)
    (should (equal (plist-get info :references) 1))
    (should-not (plist-get info :lease_s))
    (should (equal (plist-get (plist-get (heapd-test--socat "session.close"
                                                            (format "{\"name\":%S}" name))
                                         :result)
                              :released)
                   1)))
  ;; A session named by the user is kept for a later Emacs (unless the option is t).
  (let* ((name (format "emacs-test-kept-%d" (emacs-pid))))
    (heapd-test--child-emacs `(setq heapd-session-name ,name) '(heapd-connect)
                             '(heapd-allocate "Kept"))
    (should (equal (plist-get (heapd-test--session-info name) :references) 1))
    (heapd-test--child-emacs `(setq heapd-session-name ,name heapd-close-session-on-exit t)
                             '(heapd-connect))
    (should-not (heapd-test--session-info name)))
  (let* ((out (heapd-test--child-emacs
               '(setq heapd-close-session-on-exit nil heapd-session-lease 0.5)
               '(heapd-connect)
               '(heapd-allocate "Leased")
               '(princ (format "%d\n" (emacs-pid)))))
         (name (format "emacs-%d" (string-to-number out))))
    ;; Listed with its lease right after exit (or already expired on a slow machine).
    (let ((info (heapd-test--session-info name)))
      (when info (should (equal (plist-get info :lease_s) 0.5))))
    (should (heapd-test--wait-for (lambda () (not (heapd-test--session-info name))) 10))))

(ert-deftest heapd-test-lost-daemon-errors-readable ()
  "A daemon that stops answering, or dies mid-request, is reported in words."
  (let* ((dir (make-temp-file "heapd-test-" t))
         (sock (expand-file-name "private.sock" dir))
         (daemon (make-process :name "heapd-private" :noquery t :connection-type 'pipe
                               :command (list (getenv "HEAPD_BIN") "--socket" sock "--memory")
                               :buffer nil :stderr nil)))
    (unwind-protect
        (progn
          ;; Listening, not only bound: a connection is accepted (the file appears at bind).
          (should (heapd-test--wait-for
                   (lambda ()
                     (and (file-exists-p sock)
                          (condition-case nil
                              (progn (delete-process
                                      (make-network-process :name "heapd-probe" :family 'local
                                                            :service sock :noquery t))
                                     t)
                            (error nil))))
                   10))
          (heapd-disconnect)
          (let ((heapd-socket sock) (heapd-request-timeout 0.5))
            (heapd-connect)
            (signal-process daemon 'SIGSTOP)
            (should (heapd-test--wait-for
                     (lambda () (heapd-test--all-threads-stopped-p (process-id daemon))) 10))
            (let ((err (should-error (heapd-request "ping") :type 'heapd-error)))
              (should (equal (heapd-error-message err)
                             "no reply to ping from heapd within 0.5 s"))
              (should-not (heapd-error-code err)))
            ;; Still stopped; it dies while the next request waits.
            (run-at-time 0.3 nil (lambda () (signal-process daemon 'SIGKILL)))
            (let* ((heapd-request-timeout 10)
                   (err (should-error (heapd-request "ping") :type 'heapd-error)))
              (should (equal (heapd-error-message err)
                             (format "the connection to heapd at %s closed before the reply to ping"
                                     sock)))
              (should-not (heapd-error-code err)))
            (should-not (heapd-connected-p))))
      (when (process-live-p daemon) (signal-process daemon 'SIGKILL))
      (delete-directory dir t)
      (heapd-disconnect)
      (heapd-test--connect))))

(provide 'heapd-test)
;;; heapd-test.el ends here
