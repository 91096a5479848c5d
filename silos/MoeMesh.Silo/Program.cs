using MoeMesh.Silo;

return await SiloProgram.RunAsync(args);
