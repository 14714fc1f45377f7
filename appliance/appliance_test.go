package appliance

import (
	"testing"
	"time"
)

func TestParseCmdline(t *testing.T) {
	o := ParseCmdline("console=ttyAMA0 quiet jinyin.bootfs=/dev/vda1 jinyin.data=/dev/vda4 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off\n")
	if o.BootFS != "/dev/vda1" || o.Data != "/dev/vda4" {
		t.Errorf("%+v", o)
	}
	if o := ParseCmdline("console=serial0,115200"); o.BootFS != "/dev/mmcblk0p1" || o.Data != "/dev/mmcblk0p4" || o.LogConsole || o.Trial || o.TrialWait != 5*time.Minute {
		t.Errorf("defaults %+v", o)
	}
	if o := ParseCmdline("jinyin.log=console jinyin.tryboot=1 jinyin.trialwait=30s"); !o.LogConsole || !o.Trial || o.TrialWait != 30*time.Second {
		t.Errorf("%+v", o)
	}
	if o := ParseCmdline("jinyin.tryboot=0 jinyin.trialwait=-3s"); o.Trial || o.TrialWait != 5*time.Minute {
		t.Errorf("%+v", o)
	}
}
