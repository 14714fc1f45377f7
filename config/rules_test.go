package config

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rich is base with one of everything that refers to something else: a
// phone, two agents, two queues, a trunk, an fxs and an fxo port.
const rich = base + `[[extension]]
number = "200"
kind = "phone"
[[extension]]
number = "1001"
kind = "agent"
[[extension]]
number = "1002"
kind = "agent"
[[extension]]
number = "300"
kind = "phone"
[[queue]]
name = "general"
agents = ["1001"]
[[queue]]
name = "sales"
agents = ["1002"]
[[trunk]]
name = "carrier"
host = "10.0.0.1:5060"
destination = "100"
[[port]]
id = 1
kind = "fxs"
driver = "sim"
extension = "200"
[[port]]
id = 2
kind = "fxo"
driver = "sim"
destination = "100"
group = "lines"
[[campaign]]
name = "notice"
flow = "main"
trunk = "lines"
`

var richEnv = Env{Boards: testEnv.Boards, Ports: map[string][]string{"sim": {"sim", "socket"}}}

// TestRules: each documented rule of default.toml, the README and the
// field comments of Config, at its bounds: a --set on rich either passes
// or is reported as that --set with the rule's message.
func TestRules(t *testing.T) {
	for _, c := range []struct {
		set  []string
		want string // "" accepted; else the start of the only issue
	}{
		// [box]
		{[]string{"box.memory_limit_mb=0"}, ""},
		{[]string{"box.memory_limit_mb=32"}, ""},
		{[]string{"box.memory_limit_mb=65536"}, ""},
		{[]string{"box.memory_limit_mb=31"}, "--set box.memory_limit_mb: memory_limit_mb must be 0 (unset) or from 32 to 65536, not 31"},
		{[]string{"box.memory_limit_mb=65537"}, "--set box.memory_limit_mb: memory_limit_mb must be 0"},
		{[]string{"box.memory_limit_mb=-1"}, "--set box.memory_limit_mb: memory_limit_mb must be 0"},
		{[]string{"box.country=itu", "box.language=en"}, ""},
		{[]string{"box.language=fr"}, `--set box.language: language must be one of "zh", "en", not "fr"`},
		{[]string{"box.timezone=", "ivr.timezone=Mars/Olympus"}, `--set ivr.timezone: unknown time zone "Mars/Olympus"`},
		// [log]
		{[]string{"log.level=debug", "log.format=json"}, ""},
		{[]string{"log.level=error"}, ""},
		{[]string{"log.format=xml"}, `--set log.format: format must be one of "text", "json", not "xml"`},
		// [sip]
		{[]string{"sip.listen="}, "--set sip.listen: sip.listen is required"},
		{[]string{"sip.listen=127.0.0.1:0"}, ""},
		{[]string{"sip.listen=0.0.0.0:65535"}, ""},
		{[]string{"sip.listen=127.0.0.1:65536"}, `--set sip.listen: port "65536" is not a number from 0 to 65535`},
		{[]string{"sip.listen=127.0.0.1:-1"}, `--set sip.listen: port "-1" is not a number`},
		{[]string{"sip.listen=127.0.0.1:sip"}, `--set sip.listen: port "sip" is not a number`},
		{[]string{"sip.listen=:5060"}, `--set sip.listen: ":5060" has no host`},
		{[]string{`sip.transports=["tcp"]`}, ""},
		{[]string{"sip.transports=[]"}, `--set sip.transports: sip.transports needs at least one of "udp", "tcp"`},
		{[]string{`sip.digest=["SHA-256", "MD5"]`}, ""},
		{[]string{"sip.digest=[]"}, `--set sip.digest: sip.digest needs at least one of "MD5", "SHA-256"`},
		{[]string{"sip.rtp_ports=10000-10001"}, ""},
		{[]string{"sip.rtp_ports=1024-65535"}, ""},
		{[]string{"sip.rtp_ports= 10000 - 10001 "}, ""},
		{[]string{"sip.rtp_ports=10000-10000"}, `--set sip.rtp_ports: rtp_ports "10000-10000" holds no RTP/RTCP pair`},
		{[]string{"sip.rtp_ports=1022-2000"}, `--set sip.rtp_ports: rtp_ports "1022-2000" must lie within 1024-65535, low end first`},
		{[]string{"sip.rtp_ports=10000-65536"}, `--set sip.rtp_ports: rtp_ports "10000-65536" must lie within`},
		{[]string{"sip.rtp_ports=10002-10000"}, `--set sip.rtp_ports: rtp_ports "10002-10000" must lie within`},
		{[]string{"sip.rtp_ports=10000"}, `--set sip.rtp_ports: rtp_ports "10000" is not a range like "10000-19999"`},
		{[]string{"sip.rtp_ports=x-10001"}, `--set sip.rtp_ports: rtp_ports "x-10001" is not a range`},
		{[]string{"sip.rtp_ports=10000-y"}, `--set sip.rtp_ports: rtp_ports "10000-y" is not a range`},
		{[]string{"sip.max_calls=0", "sip.max_calls_per_second=0", "sip.answer_delay_ms=0"}, ""},
		{[]string{"sip.answer_delay_ms=30000"}, ""},
		{[]string{"sip.max_calls=-1"}, "--set sip.max_calls: max_calls must be 0 (no limit) or more, not -1"},
		{[]string{"sip.max_calls_per_second=-1"}, "--set sip.max_calls_per_second: max_calls_per_second must be 0 (no limit) or more, not -1"},
		{[]string{"sip.answer_delay_ms=-1"}, "--set sip.answer_delay_ms: answer_delay_ms must be from 0 to 30000, not -1"},
		{[]string{"sip.answer_delay_ms=30001"}, "--set sip.answer_delay_ms: answer_delay_ms must be from 0 to 30000, not 30001"},
		// [http]: loopback only, empty disables it
		{[]string{"http.listen=127.0.0.1:8080"}, ""},
		{[]string{"http.listen=[::1]:8080"}, ""},
		{[]string{"http.listen=localhost:8080"}, `--set http.listen: http.listen "localhost:8080" must be a loopback address`},
		{[]string{"http.listen=192.0.2.1:8080"}, `--set http.listen: http.listen "192.0.2.1:8080" must be a loopback address`},
		{[]string{"acd.record_days=30"}, ""},
		{[]string{"acd.record_days=29"}, "--set acd.record_days: record_days 29: China's MIIT 2020 call-centre notice asks for recordings to be kept at least 30 days"},
		{[]string{"acd.record_days=7", "box.country=itu"}, ""},
		// [[campaign]]
		{[]string{"campaign.0.lines=480", "campaign.0.max_attempts=20", `campaign.0.windows=["09:00-12:00", "14:00-21:00"]`, "campaign.0.timezone=Asia/Shanghai"}, ""},
		{[]string{"campaign.0.lines=481"}, "--set campaign.0.lines: lines is from 1 to 480 (0: 1), not 481"},
		{[]string{"campaign.0.max_attempts=21"}, "--set campaign.0.max_attempts: max_attempts is from 1 to 20 (0: 3), not 21"},
		{[]string{"campaign.0.trunk=nowhere"}, `--set campaign.0.trunk: "nowhere" is not a [[trunk]], a span group or an FXO line group`},
		{[]string{"campaign.0.flow=nowhere"}, `--set campaign.0.flow: flow "nowhere" is not a [flow.NAME]`},
		{[]string{"campaign.0.detect=amd", "campaign.0.machine=message"}, ""},
		{[]string{"campaign.0.detect=none", "campaign.0.machine=hangup"}, ""},
		{[]string{"campaign.0.detect=ai"}, `--set campaign.0.detect: detect is "amd" or "none", not "ai"`},
		{[]string{"campaign.0.machine=voicemail"}, `--set campaign.0.machine: machine is "hangup" or "message", not "voicemail"`},
		{[]string{`campaign.0.retry={machine = "2h", sit = "24h", busy = "1m"}`}, ""},
		{[]string{`campaign.0.retry={vacant = "1h"}`}, `--set campaign.0.retry: retry names an outcome: "busy", "no-answer", "congestion", "failed", "machine", "sit", "abandoned"`},
		{[]string{"campaign.0.queue=sales", "campaign.0.flow=", "campaign.0.cap_window=24h", "campaign.0.callback_number=4008001234", "campaign.0.abandon_prompt=company"}, ""},
		{[]string{"campaign.0.queue=sales", "campaign.0.cap_window=720h", `campaign.0.retry={abandoned = "2h"}`}, ""},
		{[]string{"campaign.0.queue=nowhere"}, `--set campaign.0.queue: queue "nowhere" is not a [[queue]]`},
		{[]string{"campaign.0.purpose=marketing", "campaign.0.caller_id=4008009999", `campaign.0.rest_hours=["12:00-14:00"]`, "campaign.0.ring_for=25s",
			"campaign.0.amd.initial_silence=3s", "campaign.0.amd.total=6s", "campaign.0.amd.max_words=5", "campaign.0.amd.silence_threshold=300"}, ""},
		{[]string{"campaign.0.purpose=sales"}, `--set campaign.0.purpose: purpose is "service" or "marketing", not "sales"`},
		{[]string{"campaign.0.purpose=marketing"}, `f.toml:71:3: a marketing campaign calls from a caller_id of its own: set one`},
		{[]string{`campaign.0.rest_hours=["14:00-12:00"]`}, `--set campaign.0.rest_hours: window "14:00-12:00": HH:MM-HH:MM, the end after the start`},
		{[]string{"campaign.0.ring_for=5s"}, `--set campaign.0.ring_for: ring_for "5s": want a duration from 10s to 3m0s`},
		{[]string{"campaign.0.amd.greeting=1 hour"}, `--set campaign.0.amd.greeting: greeting "1 hour": want a duration from 10ms to 30s`},
		{[]string{"campaign.0.amd.max_words=21"}, `--set campaign.0.amd.max_words: max_words is from 1 to 20 (0: 3), not 21`},
		{[]string{"campaign.0.amd.silence_threshold=-1"}, `--set campaign.0.amd.silence_threshold: silence_threshold is from 1 to 8192 (0: 256), not -1`},
		{[]string{"campaign.0.flow="}, `--set campaign.0.flow: flow "" is not a [flow.NAME]`},
		{[]string{"campaign.0.queue=sales", "campaign.0.flow=", "campaign.0.machine=message"}, `--set campaign.0.machine: machine = "message" plays the campaign's flow: set flow`},
		{[]string{"campaign.0.cap_window=721h"}, `--set campaign.0.cap_window: cap_window "721h": want a duration from 1h0m0s to 720h0m0s`},
		{[]string{`campaign.0.retry={busy = "10s"}`}, `--set campaign.0.retry: busy "10s": want a duration from 1m0s to 168h0m0s`},
		// [console]: a standard rate; empty device disables it
		{[]string{"console.baud=1200"}, ""},
		{[]string{"console.baud=230400"}, ""},
		{[]string{"console.device=", "console.baud=12345"}, ""},
		// [[span]]
		{[]string{"span.0.id=0"}, "--set span.0.id: span id must be 1 or more, not 0"},
		{[]string{"span.0.type=t1", "span.0.framing=esf", "span.0.coding=b8zs", "span.0.channels=1-23"}, ""},
		{[]string{"span.0.type=t1", "span.0.framing=d4", "span.0.coding=ami", "span.0.channels=1-24"}, "--set span.0.channels: channel 24 is the D-channel on T1"},
		{[]string{"span.0.type=t1", "span.0.framing=esf", "span.0.coding=hdb3", "span.0.channels=1-23"}, `--set span.0.coding: coding must be one of "b8zs", "ami", not "hdb3"`},
		{[]string{"span.0.type=t1", "span.0.framing=crc4", "span.0.coding=b8zs", "span.0.channels=1-23"}, `--set span.0.framing: framing must be one of "esf", "d4"`},
		{[]string{"span.0.framing=no-crc4", "span.0.coding=ami", "span.0.clock=internal", "span.0.signalling=pri-net", "span.0.switchtype=qsig"}, ""},
		{[]string{"span.0.switchtype=ni2"}, ""},
		{[]string{"span.0.t309=1s"}, ""},
		{[]string{"span.0.t309=10m"}, ""},
		{[]string{"span.0.t309=999ms"}, `--set span.0.t309: t309 "999ms": want a duration from 1s to 10m0s, e.g. "5s"`},
		{[]string{"span.0.t309=11m"}, `--set span.0.t309: t309 "11m": want a duration from 1s to 10m0s, e.g. "5s"`},
		{[]string{"span.0.t309=soon"}, `--set span.0.t309: t309 "soon": want a duration from 1s to 10m0s, e.g. "5s"`},
		{[]string{"span.0.coding=b8zs"}, `--set span.0.coding: coding must be one of "hdb3", "ami", not "b8zs"`},
		{[]string{"span.0.signalling=pri"}, `--set span.0.signalling: signalling must be one of "pri-cpe", "pri-net"`},
		{[]string{"span.0.switchtype=dms100"}, `--set span.0.switchtype: switchtype must be one of "euroisdn", "qsig", "ni2"`},
		{[]string{"span.0.clock=free"}, `--set span.0.clock: clock must be one of "line", "internal"`},
		{[]string{"span.0.type=j1", "span.0.channels=x"}, `--set span.0.type: type must be one of "e1", "t1", not "j1"`},
		{[]string{"span.0.channels="}, "--set span.0.channels: channels is empty"},
		{[]string{"span.0.channels=1-15,16"}, "--set span.0.channels: channel 16 is the D-channel on E1"},
		{[]string{"span.0.driver=socket", "span.0.dchannel=/run/d.sock", "span.0.bchannels=/run/b.sock"}, ""},
		{[]string{"span.0.dchannel=/run/d.sock"}, `--set span.0.dchannel: dchannel is only for driver "socket"`},
		{[]string{"span.0.bchannels=/run/b.sock"}, `--set span.0.bchannels: bchannels is only for driver "socket"`},
		{[]string{"span.0.driver=osmo-e1d"}, ""},
		{[]string{"span.0.driver=osmo-e1d", "span.0.e1d=1/0", "span.0.e1d_socket=/run/osmo-e1d.ctl"}, ""},
		{[]string{"span.0.driver=osmo-e1d", "span.0.e1d=1"}, `--set span.0.e1d: e1d "1": want interface/line, each 0-254, e.g. "0/0"`},
		{[]string{"span.0.driver=osmo-e1d", "span.0.e1d=0/255"}, `--set span.0.e1d: e1d "0/255": want interface/line, each 0-254, e.g. "0/0"`},
		{[]string{"span.0.driver=osmo-e1d", "span.0.type=t1", "span.0.framing=esf", "span.0.coding=b8zs", "span.0.channels=1-23"}, `--set span.0.type: driver "osmo-e1d" serves E1 lines only`},
		{[]string{"span.0.e1d=0/0"}, `--set span.0.e1d: e1d is only for driver "osmo-e1d"`},
		{[]string{"span.0.e1d_socket=/tmp/x"}, `--set span.0.e1d_socket: e1d_socket is only for driver "osmo-e1d"`},
		{[]string{"box.board=armbox", "span.0.driver=ds26521"}, ""},
		{[]string{"box.board=armbox"}, `f.toml:22:10: board "armbox" has no span driver "sim"; it has "ds26521", "socket"`},
		// [[port]]
		{[]string{"port.1.rings=0", "port.1.callerid=fsk-v23"}, ""},
		{[]string{"port.1.rings=6", "port.0.callerid=dtmf"}, ""},
		{[]string{"port.0.callerid=none", "port.1.callerid=fsk-bell202"}, ""},
		{[]string{"port.1.rings=7"}, "--set port.1.rings: rings must be from 0 (by callerid) to 6, not 7"},
		{[]string{"port.1.rings=-1"}, "--set port.1.rings: rings must be from 0 (by callerid) to 6, not -1"},
		{[]string{"port.0.callerid=bell"}, `--set port.0.callerid: callerid must be one of "none", "fsk-v23", "fsk-bell202", "dtmf", not "bell"`},
		{[]string{"port.0.id=0"}, "--set port.0.id: port id must be 1 or more and unique, not 0"},
		{[]string{"port.1.id=1"}, "--set port.1.id: port id must be 1 or more and unique, not 1"},
		{[]string{"port.0.kind=fxx"}, `--set port.0.kind: kind must be one of "fxs", "fxo", not "fxx"`},
		{[]string{"port.0.driver=si3215"}, `--set port.0.driver: board "sim" has no analog port driver "si3215"; it has "sim", "socket"`},
		{[]string{"port.0.driver=socket", "port.0.line=/run/fxs1"}, ""},
		{[]string{"port.1.driver=socket"}, `f.toml:65:3: driver "socket" needs line, the path of the SEQPACKET socket the phone or exchange line is at`},
		{[]string{"port.1.line=/run/fxo2"}, `--set port.1.line: line is only for driver "socket"`},
		{[]string{"port.0.extension=1001"}, `--set port.0.extension: an fxs port needs extension, the number of a [[extension]] of kind "phone"; "1001" is not one`},
		{[]string{"port.0.extension=301"}, `--set port.0.extension: an fxs port needs extension`},
		{[]string{"port.1.destination=301"}, `--set port.1.destination: an fxo port needs destination, the [[extension]] its inbound calls land on; "301" is not one`},
		// [[extension]]
		{[]string{"extension.4.number=*97#"}, ""},
		{[]string{"extension.4.number=20a"}, `--set extension.4.number: extension number must be digits (and * or # for feature codes such as *97), not "20a"`},
		{[]string{"extension.4.number="}, `--set extension.4.number: extension number must be digits`},
		{[]string{"extension.4.kind=fax"}, `--set extension.4.kind: kind must be one of "agent", "phone", "ivr", not "fax"`},
		{[]string{"extension.4.flow=main"}, `--set extension.4.flow: only extensions of kind "ivr" have a flow`},
		{[]string{"extension.0.auth=true"}, ""},
		{[]string{"extension.4.auth=true"}, `--set extension.4.auth: auth applies to extensions of kind "ivr"`},
		{[]string{"extension.1.max_contacts=0", "extension.2.max_contacts=10"}, ""},
		{[]string{"extension.1.max_contacts=11"}, "--set extension.1.max_contacts: max_contacts must be from 0 (default 1) to 10, not 11"},
		{[]string{"extension.1.max_contacts=-1"}, "--set extension.1.max_contacts: max_contacts must be from 0 (default 1) to 10, not -1"},
		// [[queue]]
		{[]string{"queue.0.name=general_2"}, ""},
		{[]string{"queue.0.name=General"}, `--set queue.0.name: queue name "General": use lower-case letters, digits and _`},
		{[]string{"queue.1.name=general"}, `--set queue.1.name: queue "general" is defined twice`},
		{[]string{"queue.0.agents=[]"}, `--set queue.0.agents: queue "general" needs agents`},
		{[]string{"queue.0.priority=86400"}, ""},
		{[]string{"queue.0.priority=-86400"}, ""},
		{[]string{"queue.0.priority=86401"}, "--set queue.0.priority: priority is in seconds of waiting, from -86400 to 86400, not 86401"},
		{[]string{"queue.0.priority=-86401"}, "--set queue.0.priority: priority is in seconds of waiting, from -86400 to 86400, not -86401"},
		{[]string{"queue.0.strategy=round-robin"}, ""},
		{[]string{"queue.0.strategy=random"}, ""},
		{[]string{"queue.0.strategy=lifo"}, `--set queue.0.strategy: strategy must be one of "longest-idle", "ring-all", "fewest-calls", "round-robin", "least-talk", "random", not "lifo"`},
		{[]string{"queue.0.ring_timeout=5s", "queue.1.ring_timeout=2m"}, ""},
		{[]string{"queue.0.ring_timeout=4s"}, `--set queue.0.ring_timeout: ring_timeout "4s": want a duration from 5s to 2m0s, e.g. "5s"`},
		{[]string{"queue.0.ring_timeout=2m1s"}, `--set queue.0.ring_timeout: ring_timeout "2m1s": want a duration from 5s to 2m0s`},
		{[]string{"queue.0.wrap_up=0s", "queue.0.announce=0s"}, ""},
		{[]string{"queue.0.wrap_up=11m"}, `--set queue.0.wrap_up: wrap_up "11m": want a duration from 0s to 10m0s`},
		{[]string{"queue.0.max_wait=10s", "queue.0.max_wait_dest=sales"}, ""},
		{[]string{"queue.0.max_wait=9s"}, `--set queue.0.max_wait: max_wait "9s": want a duration from 10s to 24h0m0s`},
		{[]string{"queue.0.announce=10m1s"}, `--set queue.0.announce: announce "10m1s": want a duration from 0s to 10m0s`},
		{[]string{"queue.0.callback_retry_delay=9s"}, `--set queue.0.callback_retry_delay: callback_retry_delay "9s": want a duration from 10s to 24h0m0s`},
		{[]string{"queue.0.callback_promise=59s"}, `--set queue.0.callback_promise: callback_promise "59s": want a duration from 1m0s to 168h0m0s`},
		{[]string{"queue.0.callback_promise=168h"}, ""},
		{[]string{"queue.0.service_level=99/1", "queue.0.service_level= 1 / 3600 "}, ""},
		{[]string{"queue.0.service_level=100/20"}, `--set queue.0.service_level: service_level "100/20" is not`},
		{[]string{"queue.0.service_level=0/20"}, `--set queue.0.service_level: service_level "0/20" is not a percentage and seconds like "80/20"`},
		{[]string{"queue.0.service_level=101/20"}, `--set queue.0.service_level: service_level "101/20" is not`},
		{[]string{"queue.0.service_level=80/0"}, `--set queue.0.service_level: service_level "80/0" is not`},
		{[]string{"queue.0.service_level=80/3601"}, `--set queue.0.service_level: service_level "80/3601" is not`},
		{[]string{"queue.0.service_level=80"}, `--set queue.0.service_level: service_level "80" is not`},
		{[]string{"queue.0.service_level=x/20"}, `--set queue.0.service_level: service_level "x/20" is not`},
		{[]string{"queue.0.service_level=80/x"}, `--set queue.0.service_level: service_level "80/x" is not`},
		{[]string{"acd.short_abandon=0s", "acd.repeat_window=1h"}, ""},
		{[]string{"box.disk_low_mb=1", "box.disk_reserve_mb=65536"}, ""},
		{[]string{"box.disk_low_mb=-1"}, "--set box.disk_low_mb: disk_low_mb is in MB, from 0 (the default, 64) to 1048576, not -1"},
		{[]string{"box.disk_low_mb=1048577"}, "--set box.disk_low_mb: disk_low_mb is in MB"},
		{[]string{"box.disk_reserve_mb=-1"}, "--set box.disk_reserve_mb: disk_reserve_mb is in MB, from 0 (the default, 16) to 65536, not -1"},
		{[]string{"box.disk_reserve_mb=65537"}, "--set box.disk_reserve_mb: disk_reserve_mb is in MB"},
		{[]string{"acd.short_abandon=61s"}, `--set acd.short_abandon: short_abandon "61s": want a duration from 0s to 1m0s`},
		{[]string{"acd.repeat_window=59m"}, `--set acd.repeat_window: repeat_window "59m": want a duration from 1h0m0s to 720h0m0s`},
		{[]string{"queue.0.overflow_after=5s", "queue.0.overflow=sales"}, ""},
		{[]string{"queue.0.overflow_after=4s", "queue.0.overflow=sales"}, `--set queue.0.overflow_after: overflow_after "4s": want a duration from 5s to 24h0m0s`},
		{[]string{"queue.0.overflow_after=2m"}, "--set queue.0.overflow_after: overflow_after needs overflow, the queue to go to"},
		{[]string{"queue.0.overflow=general"}, `--set queue.0.overflow: overflow "general" is not another [[queue]]`},
		{[]string{"queue.0.overflow=support"}, `--set queue.0.overflow: overflow "support" is not another [[queue]]`},
		{[]string{"queue.0.max_length=0", "queue.0.max_length_dest=sales"}, ""},
		{[]string{"queue.0.max_length_dest=nowhere"}, `--set queue.0.max_length_dest: max_length_dest "nowhere" is not another [[queue]]`},
		{[]string{"queue.0.max_wait_dest=nowhere"}, `--set queue.0.max_wait_dest: max_wait_dest "nowhere" is not another [[queue]]`},
		{[]string{"queue.0.max_length=-1"}, "--set queue.0.max_length: max_length must be 0 (no limit) or more"},
		{[]string{"queue.0.when_empty=join", "queue.1.when_empty=leave"}, ""},
		{[]string{"queue.0.when_empty=overflow", "queue.0.overflow=sales"}, ""},
		{[]string{"queue.0.when_empty=overflow"}, `--set queue.0.when_empty: when_empty = "overflow" needs overflow, the queue to go to`},
		{[]string{"queue.0.when_empty=hangup"}, `--set queue.0.when_empty: when_empty must be one of "join", "leave", "overflow", not "hangup"`},
		{[]string{"queue.0.callback_retries=0", "queue.1.callback_retries=10"}, ""},
		{[]string{"queue.0.callback_retries=11"}, "--set queue.0.callback_retries: callback_retries must be from 0 to 10"},
		{[]string{"queue.0.callback_retries=-1"}, "--set queue.0.callback_retries: callback_retries must be from 0 to 10"},
		// [acd]
		{[]string{"acd.direct_wait=1s", "acd.direct_queue=general"}, ""},
		{[]string{"acd.direct_wait=10m"}, ""},
		{[]string{"acd.direct_wait=999ms"}, `--set acd.direct_wait: direct_wait "999ms": want a duration from 1s to 10m0s`},
		{[]string{"acd.direct_wait=10m1s"}, `--set acd.direct_wait: direct_wait "10m1s"`},
		{[]string{"acd.direct_wait=soon"}, `--set acd.direct_wait: direct_wait "soon"`},
		{[]string{"acd.direct_queue=vip"}, `--set acd.direct_queue: direct_queue "vip" is not a [[queue]]`},
		{[]string{"acd.record_days=0", "acd.record_max_mb=0", "acd.sample_share=0"}, ""},
		{[]string{"acd.sample_share=1"}, ""},
		{[]string{"acd.record_days=-1"}, "--set acd.record_days: record_days and record_max_mb must be 0 (no limit) or more, sample_share from 0 to 1"},
		{[]string{"acd.record_max_mb=-1"}, "--set acd.record_max_mb: record_days and record_max_mb"},
		{[]string{"acd.sample_share=-0.1"}, "--set acd.sample_share: record_days and record_max_mb"},
		{[]string{"acd.sample_share=1.1"}, "--set acd.sample_share: record_days and record_max_mb"},
		{[]string{`acd.supervisors=["1001", "200"]`}, ""},
		// [[trunk]]
		{[]string{"trunk.0.register=true", "trunk.0.username=u", "trunk.0.password=p", "trunk.0.channels=0"}, ""},
		{[]string{"trunk.0.register=true", "trunk.0.username=u"}, "--set trunk.0.register: a trunk that registers needs username and password"},
		{[]string{"trunk.0.register=true", "trunk.0.password=p"}, "--set trunk.0.register: a trunk that registers needs username and password"},
		{[]string{"trunk.0.channels=-1"}, "--set trunk.0.channels: channels must be 0 (no limit) or more, not -1"},
		{[]string{"trunk.0.host="}, "--set trunk.0.host: trunk.0.host is required"},
		{[]string{"trunk.0.destination="}, ""}, // a trunk from another box: calls dial extensions by number
		{[]string{"extension.2.remote=carrier"}, ""},
		{[]string{"extension.1.remote=carrier"}, `--set extension.1.remote: remote applies to agents (a seat at another box); 200 is of kind "phone"`},
		{[]string{"extension.2.remote=nowhere"}, `--set extension.2.remote: remote "nowhere" is not a [[trunk]]`},
		{[]string{"trunk.0.name="}, "--set trunk.0.name: trunk needs a name"},
		{[]string{`trunk.0.acl=["192.0.2.0/24", "2001:db8::1"]`}, ""},
		{[]string{"trunk.0.qualify=30s"}, ""},
		{[]string{"trunk.0.qualify=1s"}, `--set trunk.0.qualify: qualify "1s": want a duration from 5s to 1h0m0s`},
		{[]string{"trunk.0.transport=tls", "trunk.0.srtp=required", `sip.transports=["udp", "tls"]`}, ""},
		{[]string{"trunk.0.srtp=required"}, `--set trunk.0.srtp: SRTP keys travel in the SDP: a trunk with srtp needs transport "tls"`},
		{[]string{"trunk.0.transport=sctp"}, `--set trunk.0.transport: `},
		{[]string{"extension.0.srtp=optional"}, `--set extension.0.srtp: SRTP keys travel in the SDP, so only over TLS`},
		{[]string{"extension.0.srtp=always", `sip.transports=["udp", "tls"]`}, `--set extension.0.srtp: srtp "always": use "optional" or "required"`},
		{[]string{"sip.tls_cert=a.pem"}, `--set sip.tls_cert: tls_cert and tls_key go together`},
		// [security]
		{[]string{`security.allow=["10.0.0.0/8", "192.0.2.7"]`, "security.ban_time=30m", "security.max_auth_failures=3", "security.flood_density=500"}, ""},
		{[]string{`security.dial_classes=["international", "premium", "mobile"]`}, ""},
		{[]string{"security.ban_time=10s"}, `--set security.ban_time: ban_time "10s": want a duration from 1m0s to 720h0m0s`},
		{[]string{"security.flood_window=0s"}, `--set security.flood_window: flood_window "0s": want a duration from 1s to 1m0s`},
		{[]string{"security.max_auth_failures=-1"}, "--set security.max_auth_failures: max_auth_failures must be 0 (the default) or up to 1000, not -1"},
		{[]string{"security.events=2000000"}, "--set security.events: events must be 0 (the default) or up to 1000000, not 2000000"},
		{[]string{`security.allow=["10.0.0.0/33"]`}, "--set security.allow: \"10.0.0.0/33\" is not a network"},
		{[]string{`security.dial_classes=["mars"]`}, `--set security.dial_classes: dial class "mars": use "internal", "emergency"`},
		{[]string{`extension.0.acl=["nonsense"]`}, `--set extension.0.acl: "nonsense" is not an address or a network`},
		// toll fraud
		{[]string{`security.pin_classes=["international"]`, `security.after_hours_classes=["emergency"]`,
			`security.rates={international=6.5, mobile=0}`, "security.extension_spend_per_hour=50", "security.trunk_spend_per_hour=0", "security.max_outbound=8"}, ""},
		{[]string{`security.pin_classes=["mars"]`}, `--set security.pin_classes: dial class "mars"`},
		{[]string{`security.after_hours_classes=["mars"]`}, `--set security.after_hours_classes: dial class "mars"`},
		{[]string{`security.rates={mars=1}`}, `--set security.rates: rates: "mars" is not a dial class`},
		{[]string{`security.rates={mobile=-1}`}, `--set security.rates: a rate is per minute, from 0 to 10000, not -1`},
		{[]string{"security.extension_spend_per_hour=-1"}, `--set security.extension_spend_per_hour: must be 0 (the default) or up to 10000000, not -1`},
		{[]string{"security.max_outbound=-1"}, `--set security.max_outbound: max_outbound must be 0 (the default) or up to 100000, not -1`},
		{[]string{`extension.0.dial_classes=["local"]`, `extension.0.pin="0042"`, "extension.0.max_outbound=1", "extension.0.outbound_per_minute=2"}, ""},
		{[]string{`extension.0.dial_classes=["mars"]`}, `--set extension.0.dial_classes: dial class "mars"`},
		{[]string{`extension.0.pin="42"`}, `--set extension.0.pin: a PIN is 4 to 12 digits`},
		{[]string{`extension.0.pin="42x4"`}, `--set extension.0.pin: a PIN is 4 to 12 digits`},
		{[]string{"extension.0.max_outbound=-1"}, `--set extension.0.max_outbound: max_outbound must be 0 (default 2) or up to 1000, not -1`},
		{[]string{"extension.0.outbound_per_minute=1001"}, `--set extension.0.outbound_per_minute: outbound_per_minute must be 0 (default 5) or up to 1000, not 1001`},
		{[]string{"extension.0.max_destinations=100001"}, `--set extension.0.max_destinations: max_destinations must be 0 (default 10) or up to 100000, not 100001`},
		{[]string{"extension.0.max_destinations=-1"}, `--set extension.0.max_destinations: max_destinations must be 0 (default 10) or up to 100000, not -1`},
		{[]string{"extension.0.max_destinations=100000"}, ""},
		// the upper bounds of the toll-fraud limits, as their messages state them
		{[]string{`extension.0.pin="123456789012"`, "extension.0.max_outbound=1000", "extension.0.outbound_per_minute=1000"}, ""},
		{[]string{`extension.0.pin="1234567890123"`}, `--set extension.0.pin: a PIN is 4 to 12 digits`},
		{[]string{"extension.0.max_outbound=1001"}, `--set extension.0.max_outbound: max_outbound must be 0 (default 2) or up to 1000, not 1001`},
		{[]string{`security.rates={local=0, international=10000}`, "security.extension_spend_per_hour=10000000", "security.trunk_spend_per_hour=10000000"}, ""},
		{[]string{`security.rates={premium=10001}`}, `--set security.rates: a rate is per minute, from 0 to 10000, not 10001`},
		{[]string{"security.trunk_spend_per_hour=10000001"}, `--set security.trunk_spend_per_hour: must be 0 (the default) or up to 10000000, not 1.0000001e+07`},
		{[]string{"security.max_auth_failures=1000", "security.max_source_failures=10000", "security.flood_density=1000000", "security.events=1000000",
			"security.outbound_per_minute=100000", "security.max_destinations=100000", "security.max_outbound=100000"}, ""},
		{[]string{"security.max_auth_failures=1001"}, "--set security.max_auth_failures: max_auth_failures must be 0 (the default) or up to 1000, not 1001"},
		{[]string{"security.max_outbound=100001"}, "--set security.max_outbound: max_outbound must be 0 (the default) or up to 100000, not 100001"},
		// the duration bounds the messages give
		{[]string{"security.failure_window=10s", "security.flood_ban_time=10s", "security.breaker_time=720h"}, ""},
		{[]string{"security.failure_window=9s"}, `--set security.failure_window: failure_window "9s": want a duration from 10s to 24h0m0s`},
		{[]string{"security.flood_ban_time=9s"}, `--set security.flood_ban_time: flood_ban_time "9s": want a duration from 10s to 24h0m0s`},
		{[]string{"security.breaker_time=721h"}, `--set security.breaker_time: breaker_time "721h": want a duration from 1m0s to 720h0m0s`},
		// SRTP (Extension.SRTP, Trunk.SRTP, default.toml: "over SIP TLS only")
		{[]string{`sip.transports=["udp", "tls"]`, "extension.0.srtp=optional", "extension.1.srtp=required"}, ""},
		{[]string{"extension.0.srtp=required"}, `--set extension.0.srtp: SRTP keys travel in the SDP, so only over TLS: add "tls" to sip.transports`},
		{[]string{`sip.transports=["tls"]`, "extension.0.srtp=always"}, `--set extension.0.srtp: srtp "always": use "optional" or "required" (or leave it out)`},
		{[]string{"trunk.0.transport=tls", "trunk.0.srtp=required"}, ""},
		{[]string{"trunk.0.transport=tcp"}, ""},
		{[]string{"trunk.0.transport=udp", "trunk.0.srtp=optional"}, `--set trunk.0.srtp: SRTP keys travel in the SDP: a trunk with srtp needs transport "tls"`},
		{[]string{"trunk.0.srtp=optional"}, `--set trunk.0.srtp: SRTP keys travel in the SDP: a trunk with srtp needs transport "tls"`},
		{[]string{"trunk.0.transport=tls", "trunk.0.srtp=yes"}, `--set trunk.0.srtp: srtp "yes": use "optional" or "required"`},
		{[]string{"trunk.0.transport=sctp"}, `--set trunk.0.transport: transport must be one of "udp", "tcp", "tls", not "sctp"`},
		// [fleet] (config.Fleet): off needs nothing; on, a site, servers,
		// and credentials for a server off the box
		{[]string{"fleet.site=bad site"}, ""},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["nats://127.0.0.1:4222"]`}, ""},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["tls://hq.example.com:4222"]`, "fleet.credentials=/etc/jinyin/box.creds"}, ""},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["nats://localhost:4222"]`, "fleet.outbox_max=100"}, ""},
		{[]string{"fleet.enabled=true", "fleet.site=sh.01", `fleet.servers=["nats://127.0.0.1:4222"]`}, `--set fleet.site: site "sh.01" must be 1 to 64 letters`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01"}, `--set fleet.enabled: fleet is enabled with no servers`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["http://127.0.0.1:4222"]`}, `--set fleet.servers: server "http://127.0.0.1:4222" must be nats://HOST:PORT`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["nats://u:p@127.0.0.1:4222"]`}, `--set fleet.servers: server "nats://u:xxxxx@127.0.0.1:4222" carries a password`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["tls://hq.example.com:4222"]`}, `--set fleet.servers: a server off this box needs credentials`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["tls://10.0.0.1:4222"]`, "fleet.credentials=a", "fleet.nkey=b"}, `--set fleet.nkey: set credentials or nkey, not both`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["nats://127.0.0.1:4222"]`, "fleet.cert=c.pem"}, `--set fleet.cert: cert and key go together`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["nats://127.0.0.1:4222"]`, "fleet.outbox_max=99"}, `--set fleet.outbox_max: outbox_max must be from 100 to 1000000, not 99`},
		{[]string{"fleet.enabled=true", "fleet.site=sh-01", `fleet.servers=["nats://127.0.0.1:4222"]`, "fleet.stream=a.b"}, `--set fleet.stream: stream "a.b" must be`},
	} {
		_, err := Load("f.toml", []byte(rich), c.set, richEnv)
		if c.want == "" {
			if err != nil {
				t.Errorf("%v: rejected:\n%v", c.set, err)
			}
			continue
		}
		var issues Issues
		if !errors.As(err, &issues) || len(issues) != 1 || !strings.HasPrefix(issues[0].String(), c.want) {
			t.Errorf("%v: got\n%v\nwant one issue: %s", c.set, err, c.want)
		}
	}
}

// TestRulesInFile: problems reported at the value, key or table they
// stand at in the file (FILE:LINE:COL), for rules a --set cannot show.
func TestRulesInFile(t *testing.T) {
	for _, c := range []struct {
		name, add string // appended to rich
		at        string // where the issue stands: the first match of at in add; "" accepted
		msg       string
	}{
		{"a trunk without a name: at its table", "[[trunk]]\nhost = \"10.0.0.2:5060\"\ndestination = \"100\"\n", "trunk]]", "trunk needs a name"},
		{"a trunk named twice: at the name", "[[trunk]]\nname = \"carrier\"\nhost = \"10.0.0.2:5060\"\ndestination = \"100\"\n", `"carrier"`, `trunk "carrier" is defined twice`},
		{"a span id used twice", "[[span]]\nid = 1\ntype = \"e1\"\ndriver = \"sim\"\nsignalling = \"pri-cpe\"\nswitchtype = \"euroisdn\"\nframing = \"crc4\"\ncoding = \"hdb3\"\nclock = \"line\"\nchannels = \"1\"\n", "1\n", "span id 1 is already used by span.0"},
		{"a queue agent that is a phone: at the element", "[[queue]]\nname = \"third\"\nagents = [\"1001\", \"200\"]\n", `"200"`, `"200" is not an extension of kind "agent"`},
		{"levels 1 and 10", "[[queue]]\nname = \"third\"\nagents = [\"1001\", \"1002\"]\nlevels = { \"1001\" = 1, \"1002\" = 10 }\n", "", ""},
		{"level 0: at its key", "[[queue]]\nname = \"third\"\nagents = [\"1001\", \"1002\"]\nlevels = { \"1001\" = 1, \"1002\" = 0 }\n", `"1002" = 0`, `level of "1002": the agent must be in agents, its level from 1 to 10`},
		{"level 11", "[[queue]]\nname = \"third\"\nagents = [\"1001\"]\nlevels = { \"1001\" = 11 }\n", `"1001" = 11`, `level of "1001"`},
		{"level of an agent not in the queue", "[[queue]]\nname = \"third\"\nagents = [\"1001\"]\nlevels = { \"1002\" = 5 }\n", `"1002" = 5`, `level of "1002"`},
		{"tiers at the bounds", "[acd]\ntiers = { \"key-account\" = 86400, \"vip_2\" = -86400 }\n", "", ""},
		{"a tier weighing more than a day: at the weight", "[acd]\ntiers = { \"key-account\" = 86401 }\n", "86401", `tier "key-account": name it with lower-case letters, digits, - and _; weigh it from -86400 to 86400 seconds`},
		{"a tier weighing less than minus a day", "[acd]\ntiers = { \"vip\" = -86401 }\n", "-86401", `tier "vip"`},
		{"a tier in capitals", "[acd]\ntiers = { \"Gold\" = 5 }\n", "5 }", `tier "Gold"`},
		{"a supervisor that is an ivr: at the element", "[acd]\nsupervisors = [\"200\", \"100\"]\n", `"100"`, `supervisor "100" is not an agent or phone extension`},
		{"a supervisor that is no extension", "[acd]\nsupervisors = [\"301\"]\n", `"301"`, `supervisor "301" is not an agent or phone extension`},
		{"sample_share past 1: at its value", "[acd]\nsample_share = 2.0\n", "2.0", "sample_share from 0 to 1"},
		// [[outbound]] and office hours
		{"an outbound route", "[[outbound]]\nprefix = \"9\"\ntrunks = [\"carrier\"]\n", "", ""},
		{"an outbound route through no trunk", "[[outbound]]\nprefix = \"9\"\ntrunks = [\"carrier\", \"mars\"]\n", `"mars"`, `"mars" is not a [[trunk]], a span group or an FXO line group`},
		{"an outbound route without trunks", "[[outbound]]\nprefix = \"9\"\n", "outbound]]", "an outbound route needs trunks"},
		{"an outbound prefix not digits", "[[outbound]]\nprefix = \"x\"\ntrunks = [\"carrier\"]\n", `"x"`, "an outbound prefix is digits"},
		{"an outbound prefix over an extension", "[[outbound]]\nprefix = \"2\"\ntrunks = [\"carrier\"]\n", `"2"`, `prefix "2" overlaps extension 200`},
		{"an extension that begins an outbound prefix", "[[outbound]]\nprefix = \"3001\"\ntrunks = [\"carrier\"]\n", `"3001"`, `prefix "3001" overlaps extension 300`},
		// A key left out of an inline table in an array is reported at that
		// table, the nearest enclosing one that stands in the file.
		{"office hours without days: at their table", "[security]\noffice_hours = [{ days = \"mon\", hours = \"08:00-20:00\" }, { hours = \"08:00-12:00\" }]\n", `{ hours`, `"" is not a day`},
		{"an outbound prefix twice", "[[outbound]]\nprefix = \"9\"\ntrunks = [\"carrier\"]\n[[outbound]]\nprefix = '9'\ntrunks = [\"carrier\"]\n", "'9'", `prefix "9" is used twice`},
		{"office hours", "[security]\noffice_hours = [{ days = \"mon-fri\", hours = \"08:00-20:00\" }, { days = \"sat\", hours = \"09:00-12:00\" }]\n", "", ""},
		{"office hours on no day", "[security]\noffice_hours = [{ days = \"mon-fry\", hours = \"08:00-20:00\" }]\n", `"mon-fry"`, `"fry" is not a day`},
		{"office hours backwards", "[security]\noffice_hours = [{ days = \"mon-fri\", hours = \"20:00-08:00\" }]\n", `"20:00-08:00"`, "the end must come after the start"},
	} {
		src := rich + c.add
		_, err := Load("f.toml", []byte(src), nil, richEnv)
		if c.at == "" {
			if err != nil {
				t.Errorf("%s: rejected:\n%v", c.name, err)
			}
			continue
		}
		if c.msg == "" {
			continue
		}
		i := len(rich) + strings.Index(c.add, c.at)
		line, col := strings.Count(src[:i], "\n")+1, i-strings.LastIndex(src[:i], "\n")
		var issues Issues
		if !errors.As(err, &issues) || len(issues) != 1 {
			t.Errorf("%s: got %v, want one issue", c.name, err)
			continue
		}
		if is := issues[0]; is.File != "f.toml" || is.Line != line || is.Col != col || !strings.Contains(is.Msg, c.msg) {
			t.Errorf("%s: got %v, want f.toml:%d:%d: ...%s...", c.name, is, line, col, c.msg)
		}
	}
	// A digest algorithm given twice is reported at the second.
	src := strings.Replace(rich, `digest = ["MD5"]`, `digest = ["MD5", "SHA-256", "MD5"]`, 1)
	_, err := Load("f.toml", []byte(src), nil, richEnv)
	if err == nil || err.Error() != `f.toml:12:29: digest algorithm "MD5": use "MD5" and/or "SHA-256", each once` {
		t.Errorf("digest twice: %v", err)
	}
}

// TestSetPaths: what --set KEY=VALUE takes (the package doc): dotted
// keys, 0-based indexes into arrays of tables, strings as they are or
// quoted, other types as TOML values of their type.
func TestSetPaths(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"sip.transports.0=udp", `--set sip.transports.0: sip.transports is a list: set it whole, e.g. sip.transports=["a", "b"]`},
		{"span.-1.clock=line", `--set span.-1.clock: span has 1 entries; want an index from 0 to 0, not "-1"`},
		{"span.1.clock=line", `--set span.1.clock: span has 1 entries; want an index from 0 to 0, not "1"`},
		{"span.x.clock=line", `--set span.x.clock: span has 1 entries; want an index from 0 to 0, not "x"`},
		{"span.0=x", "--set span.0: span.0 is a table; set one of its keys"},
		{"span=x", "--set span: span is a table; set one of its keys"},
		{"sip.listen.port=1", `--set sip.listen.port: unknown key "sip.listen.port"`},
		{"=1", "--set =1: want KEY=VALUE, e.g. sip.listen=127.0.0.1:15060"},
		{"extension.0.auth=maybe", `--set extension.0.auth: want true or false, not "maybe"`},
		{"sip.transports=udp", `--set sip.transports: want a list of strings, such as ["a", "b"], not "udp"`},
		{"acd.sample_share=half", `--set acd.sample_share: want a number, not "half"`},
		{"box.memory_limit_mb=1.5", `--set box.memory_limit_mb: want a whole number, not "1.5"`},
	} {
		_, err := Load("f.toml", []byte(base), []string{tc.set}, testEnv)
		if err == nil || err.Error() != tc.want {
			t.Errorf("--set %s: got %v\nwant %s", tc.set, err, tc.want)
		}
	}
	// A value that only starts with a quote is taken as it is.
	if _, err := Load("f.toml", []byte(base), []string{`box.country="cn`}, testEnv); err == nil || err.Error() != `--set box.country: country must be one of "cn", "itu", not "\"cn"` {
		t.Errorf(`box.country="cn: %v`, err)
	}
	cfg, err := Load("f.toml", []byte(base), []string{`box.name="quoted"`, "console.device=a=b", `http.listen="127.0.0.1:8080"`}, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Box.Name != "quoted" || cfg.Console.Device != "a=b" || cfg.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("name %q device %q http %q", cfg.Box.Name, cfg.Console.Device, cfg.HTTP.Listen)
	}
}

// TestIssuesText: one problem a line, FILE:LINE:COL: MSG, or --set KEY:
// MSG for one that came from a --set.
func TestIssuesText(t *testing.T) {
	is := Issues{{File: "a.toml", Line: 3, Col: 7, Msg: "first"}, {Set: "sip.listen", Msg: "second"}, {File: "b.toml", Msg: "third"}}
	if got, want := is.Error(), "a.toml:3:7: first\n--set sip.listen: second\nb.toml:0:0: third"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestIssuesInFileOrder: every problem is reported, sorted by line and
// then column.
func TestIssuesInFileOrder(t *testing.T) {
	src := strings.Replace(rich, `digest = ["MD5"]`, `digest = ["MD4", "MD5", "MD4"]`, 1)
	src = strings.Replace(src, `country = "cn"`, `country = "xx"`, 1)
	_, err := Load("f.toml", []byte(src), nil, richEnv)
	var issues Issues
	if !errors.As(err, &issues) {
		t.Fatalf("got %v", err)
	}
	var at []string
	for _, is := range issues {
		at = append(at, strings.SplitN(is.String(), ": ", 2)[0])
	}
	if got, want := strings.Join(at, " "), "f.toml:4:11 f.toml:12:11 f.toml:12:25"; got != want {
		t.Errorf("issues at %s, want %s", got, want)
	}
}

// TestPath: a relative path names a file beside the config file; the
// embedded default's start from the working directory; absolute paths and
// builtin: names stay as they are.
func TestPath(t *testing.T) {
	abs, err := filepath.Abs("x.wav")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, p, want string }{
		{filepath.Join("etc", "jinyin", "box.toml"), "music/hold.wav", filepath.Join("etc", "jinyin", "music", "hold.wav")},
		{filepath.Join("etc", "jinyin", "box.toml"), "", ""},
		{filepath.Join("etc", "jinyin", "box.toml"), "builtin:hold", "builtin:hold"},
		{filepath.Join("etc", "jinyin", "box.toml"), abs, abs},
		{DefaultName, "music/hold.wav", filepath.Join("music", "hold.wav")},
	} {
		cfg, err := Load(c.file, []byte(base), nil, testEnv)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Path(c.p); got != c.want {
			t.Errorf("%s: Path(%q) = %q, want %q", c.file, c.p, got, c.want)
		}
	}
}

// TestExtensionLookup: Config.Extension finds the [[extension]] with that
// number; Registers is true for agents and phones, which register.
func TestExtensionLookup(t *testing.T) {
	cfg, err := Load("f.toml", []byte(rich), nil, richEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		number    string
		found     bool
		kind      string
		registers bool
	}{
		{"100", true, "ivr", false},
		{"200", true, "phone", true},
		{"1001", true, "agent", true},
		{"999", false, "", false},
	} {
		e, ok := cfg.Extension(c.number)
		if ok != c.found || e.Kind != c.kind || e.Registers() != c.registers || (ok && e.Number != c.number) {
			t.Errorf("Extension(%s) = %+v, %v; want kind %q found %v registers %v", c.number, e, ok, c.kind, c.found, c.registers)
		}
	}
}

// TestParseNetworks: each entry a CIDR prefix (its host bits cleared) or
// a single address, a /32 or /128; an IPv4-mapped address is the IPv4
// one.
func TestParseNetworks(t *testing.T) {
	got, err := ParseNetworks([]string{"192.0.2.7", "10.1.2.3/8", "2001:db8::1", "2001:db8:1:2::5/64", "::ffff:198.51.100.1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.7/32", "10.0.0.0/8", "2001:db8::1/128", "2001:db8:1:2::/64", "198.51.100.1/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d: got %v, want %s", i, got[i], want[i])
		}
	}
	if got, err := ParseNetworks(nil); err != nil || len(got) != 0 {
		t.Errorf("no networks: %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "nonsense", "192.0.2.300"} {
		if got, err := ParseNetworks([]string{"192.0.2.0/24", bad}); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) || got != nil {
			t.Errorf("%q: got %v, %v; want an error naming it", bad, got, err)
		}
	}
}

// TestEmptyListAtKey: a list given empty is reported where it stands in
// the file, on its line.
func TestEmptyListAtKey(t *testing.T) {
	src := strings.Replace(rich, `transports = ["udp", "tcp"]`, `transports = []`, 1)
	line := strings.Count(src[:strings.Index(src, "transports = []")], "\n") + 1
	_, err := Load("f.toml", []byte(src), nil, richEnv)
	var issues Issues
	if !errors.As(err, &issues) || len(issues) != 1 {
		t.Fatalf("got %v, want one issue", err)
	}
	// At the key (col 1) or at the value (col 14): the line is what counts.
	if is := issues[0]; is.Line != line || (is.Col != 1 && is.Col != 14) || !strings.Contains(is.Msg, "sip.transports needs at least one") {
		t.Errorf("got %v, want f.toml:%d:1 or :14", is, line)
	}
}

// TestMarketingKeptApart: a marketing campaign may not call from a
// service campaign's caller ID.
func TestMarketingKeptApart(t *testing.T) {
	two := rich + `
[[campaign]]
name = "offers"
flow = "main"
trunk = "lines"
purpose = "marketing"
caller_id = "4008009999"
`
	if _, err := Load("f.toml", []byte(two), nil, richEnv); err != nil {
		t.Fatalf("a marketing campaign with a caller ID of its own: %v", err)
	}
	_, err := Load("f.toml", []byte(two), []string{"campaign.0.caller_id=4008009999"}, richEnv)
	if want := `marketing campaign "offers" calls from 4008009999, as service campaign "notice" does: keep them apart`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("sharing the service campaign's caller ID: %v, want %q", err, want)
	}
}
