using MoeMesh.Cli;

return await MoeMeshCommandLine.Build().Parse(args).InvokeAsync();
