import { ConfigError, loadCatalogSettings } from '../src/config.js'
import { CommandError, ModelsCommand } from '../src/catalog/models-command.js'

/** `npm run models -- add|list|remove|refresh|show`: grows the catalog at MODELS_DIR (docs/models.md). */
try {
  await new ModelsCommand(loadCatalogSettings(process.env), line => { process.stdout.write(`${line}\n`) }).run(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof CommandError) && !(error instanceof ConfigError)) throw error
  process.stderr.write(`models: ${error.message}\n`)
  process.exitCode = 1
}
