package ginverifier_test

import (
	"context"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/session/verifier"
	"github.com/unilogin/unilogin/session/verifier/ginverifier"
)

func Example() {
	v, err := verifier.New(context.Background(), "https://login.example.com", "https://api.example.com")
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	api := r.Group("/api", ginverifier.Middleware(v))
	api.GET("/me", func(c *gin.Context) {
		claims, _ := ginverifier.Claims(c)
		c.JSON(http.StatusOK, gin.H{"sub": claims.Subject, "roles": claims.Roles})
	})
	api.DELETE("/users/:id", ginverifier.RequirePermission("users:admin"), func(c *gin.Context) {
		c.Status(http.StatusNoContent)
	})
	log.Fatal(r.Run(":8081"))
}
