// The mesh's query vocabulary (budgets, strategies, plans) is the routing library's too.
global using MoeMesh.Queries;
