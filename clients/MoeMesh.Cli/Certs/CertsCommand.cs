using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MoeMesh.Cli.Common;
using MoeMesh.Security;

namespace MoeMesh.Cli.Certs;

/// <summary><c>moemesh certs init|issue</c>: the mesh's own certificate authority and the certificates of its boxes.</summary>
public static class CertsCommand
{
    public const string AuthorityCertificate = "ca.crt";
    public const string AuthorityKey = "ca.key";

    public static Command Create()
    {
        var command = new Command("certs", "Create the mesh's certificate authority and per-box certificates for mutual TLS (MoeMesh:Tls:*).");
        command.Subcommands.Add(Init());
        command.Subcommands.Add(Issue());
        return command;
    }

    private static Command Init()
    {
        var dir = DirOption("The folder for ca.crt and ca.key (created if missing).");
        var name = new Option<string>("--name") { Description = "The CA's name.", DefaultValueFactory = _ => "MoeMesh CA" };
        var days = new Option<int>("--days") { Description = "Days the CA is valid.", DefaultValueFactory = _ => 3650 };
        var force = new Option<bool>("--force") { Description = "Replace an existing CA (every box certificate it signed stops being trusted)." };
        var json = new Option<bool>("--json") { Description = "Write machine-readable JSON to stdout." };
        var command = new Command("init", "Create a new mesh CA: ca.crt goes to every box, ca.key stays on the machine that issues certificates.");
        command.Options.Add(dir);
        command.Options.Add(name);
        command.Options.Add(days);
        command.Options.Add(force);
        command.Options.Add(json);
        command.SetAction(result => Run(result, "certs init", () =>
        {
            var folder = result.GetValue(dir)!;
            var certPath = Path.Combine(folder, AuthorityCertificate);
            var keyPath = Path.Combine(folder, AuthorityKey);
            if (!result.GetValue(force) && (File.Exists(certPath) || File.Exists(keyPath)))
            {
                throw new ArgumentException($"{certPath} already exists; pass --force to replace the mesh CA.");
            }

            Directory.CreateDirectory(folder);
            using var ca = MeshCertificateAuthority.CreateAuthority(result.GetValue(name)!, Days(result.GetValue(days)));
            MeshCertificateAuthority.WritePem(ca, certPath, keyPath);
            return new CertsReport(ca.Subject, ca.Thumbprint, ca.NotAfter.ToUniversalTime(), Path.GetFullPath(certPath), Path.GetFullPath(keyPath), []);
        }, result.GetValue(json)));
        return command;
    }

    private static Command Issue()
    {
        var boxName = new Argument<string>("name") { Description = "The box's name (its host name is a good choice); also its certificate's DNS name." };
        var dir = DirOption("The folder holding ca.crt and ca.key; the box's NAME.crt and NAME.key are written there too unless --out is given.");
        var output = new Option<string?>("--out") { Description = "The folder for NAME.crt and NAME.key." };
        var dns = new Option<string[]>("--dns") { Description = "Another DNS name of the box (repeatable)." };
        var ip = new Option<string[]>("--ip") { Description = "An address of the box (repeatable)." };
        var days = new Option<int>("--days") { Description = "Days the certificate is valid.", DefaultValueFactory = _ => 825 };
        var json = new Option<bool>("--json") { Description = "Write machine-readable JSON to stdout." };
        var command = new Command("issue", "Issue a certificate for one box (silo or client), signed by the mesh CA.");
        command.Arguments.Add(boxName);
        command.Options.Add(dir);
        command.Options.Add(output);
        command.Options.Add(dns);
        command.Options.Add(ip);
        command.Options.Add(days);
        command.Options.Add(json);
        command.SetAction(result => Run(result, "certs issue", () =>
        {
            var name = result.GetValue(boxName)!;
            if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{name}' cannot be a file name; use the box's host name.");
            }

            var addresses = (result.GetValue(ip) ?? []).Select(a => IPAddress.TryParse(a, out var parsed) ? parsed : throw new ArgumentException($"--ip '{a}' is not an IP address.")).ToList();
            var folder = result.GetValue(dir)!;
            using var ca = MeshCertificateAuthority.LoadAuthority(Path.Combine(folder, AuthorityCertificate), Path.Combine(folder, AuthorityKey));
            using var box = MeshCertificateAuthority.Issue(ca, name, result.GetValue(dns) ?? [], addresses, Days(result.GetValue(days)));
            var target = result.GetValue(output) ?? folder;
            Directory.CreateDirectory(target);
            var certPath = Path.Combine(target, name + ".crt");
            var keyPath = Path.Combine(target, name + ".key");
            MeshCertificateAuthority.WritePem(box, certPath, keyPath);
            var names = box.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames().Concat(e.EnumerateIPAddresses().Select(a => a.ToString()))).ToList();
            return new CertsReport(box.Subject, box.Thumbprint, box.NotAfter.ToUniversalTime(), Path.GetFullPath(certPath), Path.GetFullPath(keyPath), names);
        }, result.GetValue(json)));
        return command;
    }

    private static int Run(ParseResult result, string verb, Func<CertsReport> work, bool json)
    {
        var output = result.InvocationConfiguration.Output;
        try
        {
            var report = work();
            if (json)
            {
                output.WriteLine(CliJson.Serialize(report));
            }
            else
            {
                output.WriteLine($"{report.Subject} (valid until {report.NotAfter:yyyy-MM-dd}, SHA-1 {report.Thumbprint})");
                if (report.Names.Count > 0)
                {
                    output.WriteLine($"  names:       {string.Join(", ", report.Names)}");
                }

                output.WriteLine($"  certificate: {report.CertificatePath}");
                output.WriteLine($"  private key: {report.KeyPath} (keep it on this box only)");
            }

            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is ArgumentException or MeshTlsException or IOException or UnauthorizedAccessException)
        {
            result.InvocationConfiguration.Error.WriteLine($"moemesh {verb}: {ex.Message}");
            return ExitCodes.Usage;
        }
    }

    private static Option<string> DirOption(string description)
        => new("--dir") { Description = description, DefaultValueFactory = _ => "moemesh-certs" };

    private static TimeSpan Days(int days)
        => days is >= 1 and <= 36500 ? TimeSpan.FromDays(days) : throw new ArgumentException($"--days must be between 1 and 36500, got {days}.");

    private sealed record CertsReport(string Subject, string Thumbprint, DateTime NotAfter, string CertificatePath, string KeyPath, IReadOnlyList<string> Names);
}
