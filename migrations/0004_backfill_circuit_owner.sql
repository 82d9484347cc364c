-- Custom SQL migration file, put your code below! --
-- Circuits made before owner_id existed: their creator is the user of their 'create' audit row.
UPDATE `circuits` SET `owner_id` = (
  SELECT `user_id` FROM `audit_log`
  WHERE `audit_log`.`entity` = 'circuit' AND `audit_log`.`action` = 'create' AND `audit_log`.`entity_id` = CAST(`circuits`.`id` AS TEXT)
  ORDER BY `audit_log`.`id` LIMIT 1
) WHERE `owner_id` IS NULL;
