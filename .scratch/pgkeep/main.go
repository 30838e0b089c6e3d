package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"time"

	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/seed"
	"github.com/complaintdesk/complaintdesk/store"
)

func main() {
	ctx := context.Background()
	pg := devenv.Postgres{Dir: "/tmp/pgkeep", Port: 55499, User: "complaints", Password: "complaints", Database: "complaints", Ephemeral: true}
	proc, err := pg.Start(ctx)
	if err != nil {
		panic(err)
	}
	defer proc.Stop(30 * time.Second)
	dsn := pg.DSN()
	if err := store.Migrate(ctx, dsn); err != nil {
		panic(err)
	}
	if len(os.Args) > 1 {
		if err := seed.Write(ctx, dsn, 1000000, rand.New(rand.NewPCG(1, 1)), func(int) {}); err != nil {
			panic(err)
		}
	}
	fmt.Println("ready", dsn)
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	<-c
}
