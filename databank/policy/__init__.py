"""Access policy decisions (Cedar policies arrive with the policy issue). No Flask, no ORM."""
