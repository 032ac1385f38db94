//go:build !linux

package accounts

const lowPrioritySupported = false

func lowerThreadPriority() {}
