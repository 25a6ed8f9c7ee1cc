using System.CommandLine;
using System.Text;

namespace Wafer.Cli.Commands;

internal static class ExtractCommand
{
    public static Command Create()
    {
        Argument<string> archive = CommonOptions.Archive();
        var names = new Argument<string[]>("tensors") { Description = "Tensor names to extract (all when none is given and there is no --filter).", Arity = ArgumentArity.ZeroOrMore };
        var filter = new Option<string>("--filter") { Description = "Also extract tensors whose name matches this pattern (* and ? wildcards)." };
        var output = new Option<string>("--output", "-o") { Description = "Folder for one raw <name>.bin per tensor." };
        var safetensors = new Option<string>("--safetensors") { Description = "Write the tensors into this new .safetensors file instead." };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("extract", "Decode chosen tensors to raw .bin files or to a new safetensors file.") { archive, names, filter, output, safetensors, force, quiet };
        command.Validators.Add(r =>
        {
            if ((r.GetValue(output) is null) == (r.GetValue(safetensors) is null))
            {
                r.AddError("Give exactly one of --output FOLDER or --safetensors FILE.");
            }
        });
        command.SetAction(parse =>
        {
            using WaferArchive opened = WaferArchive.Open(parse.GetValue(archive)!);
            List<ArchiveTensor> tensors = TensorFilter.Select(opened, parse.GetValue(names), parse.GetValue(filter));
            bool overwrite = parse.GetValue(force);
            if (parse.GetValue(safetensors) is string file)
            {
                opened.WriteSafetensors(tensors, file, overwrite);
            }
            else
            {
                string folder = parse.GetValue(output)!;
                Directory.CreateDirectory(folder);
                var ambiguous = tensors.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
                foreach (ArchiveTensor tensor in tensors)
                {
                    // A name several files share gets its source file in the output name, so no tensor overwrites another.
                    string name = ambiguous.Contains(tensor.Name) ? $"{tensor.Name}@{tensor.File.Path}" : tensor.Name;
                    opened.WriteRaw(tensor, Path.Combine(folder, FileNameFor(name) + ".bin"), overwrite);
                }
            }

            if (!parse.GetValue(quiet))
            {
                Console.WriteLine($"Extracted {tensors.Count} tensors ({ByteSize.Format(tensors.Sum(t => t.Size))}) to {parse.GetValue(safetensors) ?? parse.GetValue(output)}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A tensor name as a single safe file name: path separators and reserved characters become '_'.</summary>
    internal static string FileNameFor(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@' ? c : '_');
        }

        string result = builder.ToString().Trim('.');
        return result.Length == 0 ? "_" : result;
    }
}
