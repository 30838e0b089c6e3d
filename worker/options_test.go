package worker

import "testing"

func TestPollersSetting(t *testing.T) {
	auto, err := workerOptions(Config{Pollers: "autoscaling"})
	if err != nil || auto.WorkflowTaskPollerBehavior == nil || auto.ActivityTaskPollerBehavior == nil {
		t.Errorf("autoscaling: %+v, %v", auto, err)
	}
	fixed, err := workerOptions(Config{Pollers: "fixed"})
	if err != nil || fixed.WorkflowTaskPollerBehavior != nil || fixed.ActivityTaskPollerBehavior != nil {
		t.Errorf("fixed: %+v, %v", fixed, err)
	}
	if _, err := workerOptions(Config{Pollers: "many"}); err == nil {
		t.Error("an unknown WORKER_POLLERS was accepted")
	}
}
