package redis

import "github.com/redis/go-redis/v9"

func errTxFailed() error { return redis.TxFailedErr }
