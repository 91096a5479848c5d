using System.CommandLine;
using MoeMesh.Cli;

// Ctrl+C and SIGTERM cancel the command; verbs that started silos need time to stop them cleanly.
return await MoeMeshCommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(40) });
