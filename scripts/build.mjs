console.log("build: pending")
