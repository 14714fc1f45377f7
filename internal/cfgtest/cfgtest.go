// Package cfgtest is what tests of the IVR and the queue start a
// configuration from: the sections every box has, on the simulated board.
package cfgtest

// Header is a minimal [box], [log] and [sip]; a test appends its
// extensions, queues and flows.
const Header = `[box]
name = "t"
board = "sim"
country = "cn"
language = "zh"
[log]
level = "info"
format = "text"
[sip]
listen = "127.0.0.1:5060"
transports = ["udp"]
digest = ["MD5"]
rtp_ports = "10000-10999"
`

// Boards is the simulated board alone, for config.Env.
var Boards = map[string][]string{"sim": {"sim"}}
